import { chatChunkSchema, chatCompletionSchema, completionAsChunk, type ChatChunk } from "../../../src/providers/openai-chat/wire.ts";
import { recordedJson } from "../recorded.ts";
import { recordedChunks } from "./replay.ts";

// Recorded OpenAI-style answers as the chunks the translator reads: streams chunk by chunk,
// a non-streaming completion as the one chunk that would have streamed it.

export async function chunksOf(path: string): Promise<ChatChunk[]> {
  if (path.endsWith(".json")) return [completionAsChunk(chatCompletionSchema.parse(await recordedJson(path)))];
  return (await recordedChunks(path)).map((chunk) => chatChunkSchema.parse(chunk));
}
