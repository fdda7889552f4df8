import { ApiError } from "../../anthropic/errors.ts";
import type { StreamEvent, Usage } from "../../anthropic/schema.ts";
import { EventWriter } from "../event-writer.ts";
import { forEachDeltaText, type TextKind } from "./convert-delta-text.ts";
import { convertStreamError } from "./convert-stream-error.ts";
import { convertUsage, timingsUsage } from "./convert-usage.ts";
import { mapFinishReason } from "./map-finish-reason.ts";
import type { ChatChunk, ChatDelta, ChatUsage } from "./wire.ts";

// OpenAI Chat Completions chunks → Anthropic stream events, one chunk at a time. Tolerates what
// real providers send: usage-only chunks and empty `choices`, role-only deltas, tool calls whose
// id and name come only in the first fragment (or are repeated), arguments split anywhere,
// reasoning as `reasoning_content`, `reasoning` or Mistral's typed content parts, an error object
// inside a 200 stream, and a stream that ends without `[DONE]`.

export interface ChatStreamOptions {
  /** Provider name: signs thinking and names the upstream in errors. */
  provider: string;
  /** The model named in message_start when the upstream names none (Azure's first chunk, llama.cpp). */
  model: string;
  /** The request's stop sequences, to report which one ended the answer where the server says. */
  stopSequences?: string[];
}

interface ToolCallState {
  name: string | undefined;
  /** Arguments received before the name, sent once the block can start. */
  pending: string;
  /** The Anthropic block index once started. */
  block: number | undefined;
  upstreamId: string | undefined;
}

export class ChatStreamTranslator {
  private readonly writer: EventWriter;
  private started = false;
  private readonly tools = new Map<string, ToolCallState>();
  private lastToolKey: string | undefined;
  private finishReason: string | undefined;
  private stopSequence: string | null = null;
  private usage: ChatUsage | undefined;
  private timingsUsage: Usage | undefined;

  /** Bound once: writes a delta's text into the events of the chunk being translated. */
  private readonly writeText: (kind: TextKind, text: string, out: StreamEvent[]) => void;

  constructor(private readonly options: ChatStreamOptions) {
    const writer = new EventWriter(options.provider);
    this.writer = writer;
    this.writeText = (kind, text, out) => writer.text(kind, text, out);
  }

  /** The events one chunk produces (possibly none). */
  push(chunk: ChatChunk): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (chunk.error) {
      // OpenRouter reports failures inside a 200 stream; one after the answer finished (e.g.
      // "Token limit reached" after finish_reason length) only repeats what finish_reason said.
      if (this.finishReason === undefined) throw convertStreamError(chunk.error, this.options.provider);
    }
    // Azure opens with a chunk of prompt-filter results only (no choices, no model): the
    // message starts with the first chunk that names the model or carries a choice.
    if (!this.started && (chunk.model || (chunk.choices && chunk.choices.length > 0))) {
      this.started = true;
      out.push(this.writer.start(chunk.model || this.options.model));
    }
    const usage = chunk.usage ?? chunk.x_groq?.usage;
    if (usage && (usage.prompt_tokens != null || usage.completion_tokens != null)) this.usage = usage;
    // llama.cpp's own counts, which newer builds attach to every chunk: the last one holds.
    this.timingsUsage = timingsUsage(chunk.timings) ?? this.timingsUsage;
    for (const choice of chunk.choices ?? []) {
      // n is never above 1 in requests lynkr makes; other choices would be a server's mistake.
      if (choice.index != null && choice.index !== 0) continue;
      if (choice.delta) this.delta(choice.delta, out);
      if (choice.finish_reason) {
        this.finishReason = choice.finish_reason;
        this.matchStopSequence(choice.stop_reason ?? choice.matched_stop);
        this.writer.close(out);
      }
    }
    return out;
  }

  /** The closing events, once the upstream said `[DONE]` or closed the stream. */
  finish(sawDone: boolean): StreamEvent[] {
    if (!this.started) throw new ApiError(`upstream ${this.options.provider} answered with an empty stream`);
    if (this.finishReason === undefined && !sawDone) {
      throw new ApiError(`upstream ${this.options.provider} closed the stream before finishing the answer`);
    }
    const out: StreamEvent[] = [];
    for (const tool of this.tools.values()) {
      if (tool.block === undefined) {
        throw new ApiError(`upstream ${this.options.provider} sent a tool call without a function name`);
      }
    }
    const stopReason = mapFinishReason({ finishReason: this.finishReason, toolUses: this.writer.toolUseCount, stopSequence: this.stopSequence });
    this.writer.end(stopReason, this.stopSequence, convertUsage(this.usage, this.timingsUsage, this.writer.outputChars), out);
    return out;
  }

  private delta(delta: ChatDelta, out: StreamEvent[]): void {
    forEachDeltaText(delta, this.writeText, out);
    for (const call of delta.tool_calls ?? []) {
      this.toolCall(this.toolKey(call.index, call.id), call.id, call.function?.name, call.function?.arguments, out);
    }
    if (delta.function_call) {
      this.toolCall("function_call", undefined, delta.function_call.name, delta.function_call.arguments, out);
    }
  }

  /**
   * Which call a fragment belongs to: by index, unless it names a new id at an index already
   * taken (Gemini numbers every parallel call 0); without an index, by id; else the last call.
   */
  private toolKey(index: number | null | undefined, id: string | null | undefined): string {
    if (index != null) {
      const key = `i${index}`;
      const known = this.tools.get(key);
      if (id && known?.upstreamId && known.upstreamId !== id) {
        this.tools.set(`${key}@${this.tools.size}`, known);
        this.tools.delete(key);
      }
      return key;
    }
    if (id) {
      for (const [key, tool] of this.tools) if (tool.upstreamId === id) return key;
      return `id:${id}`;
    }
    return this.lastToolKey ?? "i0";
  }

  private toolCall(
    key: string,
    id: string | null | undefined,
    name: string | null | undefined,
    args: string | null | undefined,
    out: StreamEvent[],
  ): void {
    let tool = this.tools.get(key);
    if (!tool) {
      tool = { name: undefined, pending: "", block: undefined, upstreamId: id || undefined };
      this.tools.set(key, tool);
    }
    this.lastToolKey = key;
    if (args) {
      if (tool.block === undefined) tool.pending += args;
      else this.writer.toolInput(tool.block, args, out);
    }
    // Some servers repeat the name (and id) on every fragment; only the first one opens the block.
    if (name && tool.block === undefined) {
      tool.name = name;
      tool.block = this.writer.toolUse(name, out);
      this.writer.toolInput(tool.block, tool.pending, out);
      tool.pending = "";
    }
  }

  private matchStopSequence(value: string | number | null | undefined): void {
    if (typeof value === "string" && this.options.stopSequences?.includes(value)) this.stopSequence = value;
  }
}
