import { ApiError, streamErrorOf } from "./errors.ts";
import type { Message, ResponseContentBlock, StreamEvent, Usage } from "./schema.ts";

// Folds a stream of Anthropic events into the Message a non-streaming call returns. The same
// accumulator records each turn in the session store, so both paths see one answer.

export class MessageAccumulator {
  private message: Message | undefined;
  private readonly partialJson = new Map<number, string>();

  get started(): boolean {
    return this.message !== undefined;
  }

  push(event: StreamEvent): void {
    switch (event.type) {
      case "message_start":
        this.message = { ...event.message, content: [...(event.message.content ?? [])] };
        return;
      case "content_block_start": {
        const message = this.require();
        message.content[event.index] = { ...event.content_block };
        return;
      }
      case "content_block_delta": {
        const block = this.require().content[event.index];
        if (!block) return;
        const delta = event.delta;
        if (delta.type === "text_delta" && typeof delta.text === "string") {
          block.text = `${(block.text as string | undefined) ?? ""}${delta.text}`;
        } else if (delta.type === "thinking_delta" && typeof delta.thinking === "string") {
          block.thinking = `${(block.thinking as string | undefined) ?? ""}${delta.thinking}`;
        } else if (delta.type === "signature_delta" && typeof delta.signature === "string") {
          block.signature = delta.signature;
        } else if (delta.type === "input_json_delta" && typeof delta.partial_json === "string") {
          this.partialJson.set(event.index, (this.partialJson.get(event.index) ?? "") + delta.partial_json);
        } else if (delta.type === "citations_delta" && "citation" in delta) {
          const citations = (block.citations as unknown[] | undefined) ?? [];
          block.citations = [...citations, delta.citation];
        }
        return;
      }
      case "content_block_stop": {
        const block = this.require().content[event.index];
        const json = this.partialJson.get(event.index);
        if (block && json !== undefined) {
          block.input = json.length === 0 ? {} : parseToolInput(json);
          this.partialJson.delete(event.index);
        }
        return;
      }
      case "message_delta": {
        const message = this.require();
        const { stop_reason, stop_sequence, ...rest } = event.delta;
        message.stop_reason = stop_reason ?? message.stop_reason;
        if (stop_sequence !== undefined) message.stop_sequence = stop_sequence;
        Object.assign(message, rest);
        if (event.usage) message.usage = mergeUsage(message.usage, event.usage);
        return;
      }
      case "error":
        throw streamErrorOf(event);
      default:
        return;
    }
  }

  /** The block at `index` as accumulated so far (complete once its content_block_stop was pushed). */
  block(index: number): ResponseContentBlock | undefined {
    return this.message?.content[index];
  }

  /** The accumulated message; blocks whose stop never came are kept as they stand. */
  result(): Message {
    const message = this.require();
    message.content = message.content.filter((b): b is ResponseContentBlock => b !== undefined);
    return message;
  }

  private require(): Message {
    if (!this.message) throw new ApiError("upstream stream did not begin with message_start");
    return this.message;
  }
}

function parseToolInput(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new ApiError("upstream sent tool input that is not valid JSON");
  }
}

/** message_delta usage is cumulative: its fields replace message_start's where present. */
function mergeUsage(base: Usage, update: Usage): Usage {
  const merged: Usage = { ...base };
  for (const [key, value] of Object.entries(update)) {
    if (value !== null && value !== undefined) merged[key] = value;
  }
  return merged;
}
