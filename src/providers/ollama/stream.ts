import { z } from "zod";
import { ApiError } from "../../anthropic/errors.ts";
import type { StreamEvent } from "../../anthropic/schema.ts";
import { EventWriter, toolUseId } from "../event-writer.ts";
import { convertUsage } from "./convert-usage.ts";
import { mapFinishReason } from "./map-finish-reason.ts";
import { ndjsonLines } from "./ndjson-lines.ts";

// Ollama's NDJSON /api/chat stream → Anthropic stream events. Ollama sends thinking and text as
// deltas and each tool call whole; the final `done: true` object carries the counts.

const toolCallSchema = z.looseObject({
  id: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.unknown() }),
});

export const ollamaChunkSchema = z.union([
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

  for await (const line of ndjsonLines(body)) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new ApiError(`upstream ${options.upstream} sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
    const parsed = ollamaChunkSchema.safeParse(json);
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
      writer.end(mapFinishReason(chunk.done_reason, writer.toolUseCount), null, convertUsage(chunk), out);
      yield* out;
      return;
    }
    yield* out;
  }
  throw new ApiError(`upstream ${options.upstream} ended the stream before its final (done) object`);
}
