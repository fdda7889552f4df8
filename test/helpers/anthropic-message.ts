/** The events of a complete Anthropic answer with one text block, for fake Anthropic-wire upstreams. */
export function anthropicTextEvents(text: string, model = "claude-x"): { type: string; [k: string]: unknown }[] {
  return [
    { type: "message_start", message: { id: "msg_01Fake", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
    { type: "content_block_stop", index: 0 },
    { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } },
    { type: "message_stop" },
  ];
}
