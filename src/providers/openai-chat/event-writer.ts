import type { Message, StreamEvent, Usage } from "../../anthropic/schema.ts";
import { lynkrThinkingSignature } from "../../anthropic/thinking-signature.ts";

// Builds a well-formed Anthropic event sequence from loose pieces (text, thinking, tool-call
// fragments): one block open at a time, every block started and stopped, thinking closed with
// a signature lynkr recognises later, tool input only as input_json_delta. Claude Code drops
// blocks without content_block_stop and ignores tool input that is not streamed as deltas.

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** An id shaped like Anthropic's (`msg_01…`, `toolu_01…`): 22 random base58 characters. */
export function anthropicId(prefix: "msg" | "toolu"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(22));
  let id = `${prefix}_01`;
  for (const byte of bytes) id += base58[byte % base58.length];
  return id;
}

type OpenBlock = { kind: "text" | "thinking" | "tool_use"; index: number } | undefined;

export class EventWriter {
  private open: OpenBlock;
  private nextIndex = 0;
  /** Characters of output, to estimate usage when the upstream reports none. */
  outputChars = 0;
  toolUseCount = 0;

  constructor(private readonly provider: string) {}

  start(model: string): StreamEvent {
    const message: Message = {
      id: anthropicId("msg"),
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return { type: "message_start", message };
  }

  /** Closes the open block, if any. */
  close(out: StreamEvent[]): void {
    const open = this.open;
    if (!open) return;
    if (open.kind === "thinking") {
      out.push({
        type: "content_block_delta",
        index: open.index,
        delta: { type: "signature_delta", signature: lynkrThinkingSignature(this.provider) },
      });
    }
    out.push({ type: "content_block_stop", index: open.index });
    this.open = undefined;
  }

  text(kind: "text" | "thinking", text: string, out: StreamEvent[]): void {
    if (text === "") return;
    this.outputChars += text.length;
    if (this.open?.kind !== kind) {
      this.close(out);
      const index = this.nextIndex++;
      this.open = { kind, index };
      out.push({
        type: "content_block_start",
        index,
        content_block: kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
      });
    }
    out.push({
      type: "content_block_delta",
      index: this.open.index,
      delta: kind === "text" ? { type: "text_delta", text } : { type: "thinking_delta", thinking: text },
    });
  }

  /** Opens a tool_use block; returns its index for the argument fragments that follow. */
  toolUse(name: string, out: StreamEvent[]): number {
    this.close(out);
    const index = this.nextIndex++;
    this.open = { kind: "tool_use", index };
    this.toolUseCount++;
    out.push({ type: "content_block_start", index, content_block: { type: "tool_use", id: anthropicId("toolu"), name, input: {} } });
    return index;
  }

  toolInput(index: number, partialJson: string, out: StreamEvent[]): void {
    if (partialJson === "") return;
    this.outputChars += partialJson.length;
    out.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: partialJson } });
  }

  isOpen(index: number): boolean {
    return this.open?.index === index;
  }

  end(stopReason: string, stopSequence: string | null, usage: Usage, out: StreamEvent[]): void {
    this.close(out);
    out.push({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage });
    out.push({ type: "message_stop" });
  }
}
