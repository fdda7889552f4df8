import { createHash } from "node:crypto";
import type { Message, StreamEvent, Usage } from "../anthropic/schema.ts";
import { lynkrThinkingSignature } from "../anthropic/thinking-signature.ts";

// Builds a well-formed Anthropic event sequence from loose pieces (text, thinking, tool-call
// fragments): one block open at a time, every block started and stopped, thinking closed with
// a signature lynkr recognises later, tool input only as input_json_delta. Claude Code drops
// blocks without content_block_stop and ignores tool input that is not streamed as deltas.
// Shared by the adapters that translate from another wire format (openai-chat, ollama).

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** `{prefix}_01` and 22 base58 characters drawn from the first 22 bytes. */
function base58Id(prefix: "msg" | "toolu", bytes: Uint8Array): string {
  let id = `${prefix}_01`;
  for (let i = 0; i < 22; i++) id += base58[(bytes[i] ?? 0) % base58.length];
  return id;
}

/** An id shaped like Anthropic's (`msg_01…`, `toolu_01…`): 22 random base58 characters. */
export function anthropicId(prefix: "msg" | "toolu"): string {
  return base58Id(prefix, crypto.getRandomValues(new Uint8Array(22)));
}

/**
 * A `toolu_01…` id derived from the message id and the call's position, so one answer always
 * names its calls the same way (and looks like Anthropic's to clients that check the prefix).
 */
export function toolUseId(messageId: string, index: number): string {
  return base58Id("toolu", createHash("sha256").update(`${messageId}:${index}`).digest());
}

type OpenBlock = { kind: "text" | "thinking" | "tool_use"; index: number } | undefined;

export class EventWriter {
  private open: OpenBlock;
  private nextIndex = 0;
  /** Characters of output, to estimate usage when the upstream reports none. */
  outputChars = 0;
  toolUseCount = 0;

  constructor(private readonly provider: string) {}

  start(model: string, id: string = anthropicId("msg")): StreamEvent {
    const message: Message = {
      id,
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
  toolUse(name: string, out: StreamEvent[], id: string = anthropicId("toolu")): number {
    this.close(out);
    const index = this.nextIndex++;
    this.open = { kind: "tool_use", index };
    this.toolUseCount++;
    out.push({ type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } });
    return index;
  }

  /**
   * A tool call that arrives whole (Ollama): one block with its arguments as a single
   * input_json_delta, even an empty one. Arguments already serialised are passed through as sent.
   */
  wholeToolUse(name: string, args: unknown, out: StreamEvent[], id?: string): void {
    const index = this.toolUse(name, out, id);
    const json = typeof args === "string" ? args : JSON.stringify(args ?? {});
    this.outputChars += json.length;
    out.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: json } });
    this.close(out);
  }

  toolInput(index: number, partialJson: string, out: StreamEvent[]): void {
    if (partialJson === "") return;
    this.outputChars += partialJson.length;
    out.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: partialJson } });
  }

  end(stopReason: string, stopSequence: string | null, usage: Usage, out: StreamEvent[]): void {
    this.close(out);
    out.push({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage });
    out.push({ type: "message_stop" });
  }
}
