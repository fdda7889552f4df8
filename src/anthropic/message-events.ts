import type { ContentDelta, Message, ResponseContentBlock, StreamEvent } from "./schema.ts";

// A whole Message as the stream of events that would have produced it: used where an upstream
// (or the prompt cache) has a finished answer but the client asked for a stream.

function emptyBlock(block: ResponseContentBlock): { start: ResponseContentBlock; deltas: ContentDelta[] } {
  switch (block.type) {
    case "text":
      return { start: { ...block, text: "" }, deltas: block.text ? [{ type: "text_delta", text: block.text as string }] : [] };
    case "thinking": {
      const deltas: ContentDelta[] = [];
      if (block.thinking) deltas.push({ type: "thinking_delta", thinking: block.thinking as string });
      if (block.signature) deltas.push({ type: "signature_delta", signature: block.signature as string });
      return { start: { ...block, thinking: "", signature: "" }, deltas };
    }
    case "tool_use":
    case "server_tool_use": {
      const json = JSON.stringify(block.input ?? {});
      return {
        start: { ...block, input: {} },
        deltas: json === "{}" ? [] : [{ type: "input_json_delta", partial_json: json }],
      };
    }
    default:
      return { start: block, deltas: [] };
  }
}

export async function* messageToEvents(message: Message): AsyncGenerator<StreamEvent> {
  const { content, stop_reason, stop_sequence, usage } = message;
  yield {
    type: "message_start",
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } },
  };
  for (const [index, block] of content.entries()) {
    const { start, deltas } = emptyBlock(block);
    yield { type: "content_block_start", index, content_block: start };
    for (const delta of deltas) yield { type: "content_block_delta", index, delta };
    yield { type: "content_block_stop", index };
  }
  yield { type: "message_delta", delta: { stop_reason, stop_sequence }, usage };
  yield { type: "message_stop" };
}
