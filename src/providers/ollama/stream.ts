import { z } from "zod";
import { ApiError } from "../../anthropic/errors.ts";
import type { StopReason, StreamEvent } from "../../anthropic/schema.ts";
import { EventWriter, toolUseId } from "../event-writer.ts";

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

export interface OllamaStreamOptions {
  /** The provider name, named in errors and the thinking signature. */
  upstream: string;
  provider: string;
  messageId: string;
  /** Shown while Ollama has not yet named the model. */
  model: string;
}

export async function* ollamaEvents(body: AsyncIterable<Uint8Array>, options: OllamaStreamOptions): AsyncGenerator<StreamEvent> {
  const writer = new EventWriter(options.provider);
  let started = false;

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

    const out: StreamEvent[] = [];
    if (!started) {
      started = true;
      out.push(writer.start(chunk.model ?? options.model, options.messageId));
    }
    const message = chunk.message;
    if (message?.thinking) writer.text("thinking", message.thinking, out);
    if (message?.content) writer.text("text", message.content, out);
    for (const call of message?.tool_calls ?? []) {
      writer.wholeToolUse(call.function.name, call.function.arguments, out, toolUseId(options.messageId, writer.toolUseCount));
    }
    if (chunk.done) {
      let stopReason: StopReason = writer.toolUseCount > 0 ? "tool_use" : "end_turn";
      if (chunk.done_reason === "length") stopReason = "max_tokens";
      writer.end(stopReason, null, { input_tokens: chunk.prompt_eval_count ?? 0, output_tokens: chunk.eval_count ?? 0 }, out);
      yield* out;
      return;
    }
    yield* out;
  }
  throw new ApiError(`upstream ${options.upstream} ended the stream before its final (done) object`);
}
