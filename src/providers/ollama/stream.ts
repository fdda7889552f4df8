import { createHash } from "node:crypto";
import { z } from "zod";
import { ApiError } from "../../anthropic/errors.ts";
import type { StopReason, StreamEvent } from "../../anthropic/schema.ts";
import { lynkrThinkingSignature } from "../../anthropic/thinking-signature.ts";

// Ollama's NDJSON /api/chat stream → Anthropic stream events. Ollama sends thinking and text as
// deltas and each tool call whole; the final `done: true` object carries the counts.

const toolCallSchema = z.looseObject({
  id: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.unknown() }),
});

const chunkSchema = z.union([
  z.looseObject({ error: z.string() }),
  z.looseObject({
    model: z.string().optional(),
    message: z
      .looseObject({
        content: z.string().nullish(),
        thinking: z.string().nullish(),
        tool_calls: z.array(toolCallSchema).nullish(),
      })
      .optional(),
    done: z.boolean(),
    done_reason: z.string().nullish(),
    prompt_eval_count: z.number().nullish(),
    eval_count: z.number().nullish(),
  }),
]);

const decoder = new TextDecoder();

/** One JSON object per line; a line may arrive in several chunks. */
async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
      newline = buffer.indexOf("\n");
    }
  }
  const last = (buffer + decoder.decode()).trim();
  if (last) yield last;
}

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * A `toolu_01…` id derived from the message id and the call's position, so one answer always
 * names its calls the same way (and looks like Anthropic's to clients that check the prefix).
 */
export function toolUseId(messageId: string, index: number): string {
  const digest = createHash("sha256").update(`${messageId}:${index}`).digest();
  let id = "toolu_01";
  for (let i = 0; i < 22; i++) id += base58[(digest[i] ?? 0) % base58.length];
  return id;
}

export interface OllamaStreamOptions {
  /** The provider name, named in errors and the thinking signature. */
  upstream: string;
  provider: string;
  messageId: string;
  /** Shown while Ollama has not yet named the model. */
  model: string;
}

type Open = { kind: "text" | "thinking"; index: number } | undefined;

export async function* ollamaEvents(body: AsyncIterable<Uint8Array>, options: OllamaStreamOptions): AsyncGenerator<StreamEvent> {
  let started = false;
  let open: Open;
  let nextIndex = 0;
  let toolCalls = 0;
  let sawDone = false;

  const start = (model: string | undefined): StreamEvent => {
    started = true;
    return {
      type: "message_start",
      message: {
        id: options.messageId,
        type: "message",
        role: "assistant",
        model: model ?? options.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    };
  };

  function* close(): Generator<StreamEvent> {
    if (!open) return;
    if (open.kind === "thinking") {
      yield {
        type: "content_block_delta",
        index: open.index,
        delta: { type: "signature_delta", signature: lynkrThinkingSignature(options.provider) },
      };
    }
    yield { type: "content_block_stop", index: open.index };
    open = undefined;
  }

  function* delta(kind: "text" | "thinking", text: string): Generator<StreamEvent> {
    if (open?.kind !== kind) {
      yield* close();
      open = { kind, index: nextIndex++ };
      yield {
        type: "content_block_start",
        index: open.index,
        content_block: kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
      };
    }
    yield {
      type: "content_block_delta",
      index: open.index,
      delta: kind === "text" ? { type: "text_delta", text } : { type: "thinking_delta", thinking: text },
    };
  }

  for await (const line of lines(body)) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new ApiError(`upstream ${options.upstream} sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
    const parsed = chunkSchema.safeParse(json);
    if (!parsed.success) throw new ApiError(`upstream ${options.upstream} sent an object lynkr does not understand: ${line.slice(0, 200)}`);
    const chunk = parsed.data;
    // Ollama reports failures mid-stream as a bare {"error": "..."} line under HTTP 200.
    if ("error" in chunk) throw new ApiError(`upstream ${options.upstream}: ${chunk.error}`);
    if (!started) yield start(chunk.model);

    const message = chunk.message;
    if (message?.thinking) yield* delta("thinking", message.thinking);
    if (message?.content) yield* delta("text", message.content);
    for (const call of message?.tool_calls ?? []) {
      yield* close();
      const index = nextIndex++;
      const input = call.function.arguments ?? {};
      yield {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: toolUseId(options.messageId, toolCalls++), name: call.function.name, input: {} },
      };
      yield {
        type: "content_block_delta",
        index,
        // Claude Code reads tool input only from input_json_delta.
        delta: { type: "input_json_delta", partial_json: typeof input === "string" ? input : JSON.stringify(input) },
      };
      yield { type: "content_block_stop", index };
    }

    if (chunk.done) {
      sawDone = true;
      yield* close();
      let stopReason: StopReason = toolCalls > 0 ? "tool_use" : "end_turn";
      if (chunk.done_reason === "length") stopReason = "max_tokens";
      yield {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { input_tokens: chunk.prompt_eval_count ?? 0, output_tokens: chunk.eval_count ?? 0 },
      };
      yield { type: "message_stop" };
      return;
    }
  }
  if (!sawDone) throw new ApiError(`upstream ${options.upstream} ended the stream before its final (done) object`);
}
