import { expect, test } from "bun:test";
import type { Usage } from "../../../src/anthropic/schema.ts";
import { convertUsage, timingsUsage } from "../../../src/providers/openai-chat/convert-usage.ts";
import type { ChatUsage } from "../../../src/providers/openai-chat/wire.ts";
import { chunksOf } from "./recorded-chunks.ts";

// Recorded usage → Anthropic usage: cache reads apart from input_tokens, as Anthropic counts them.

async function usageOf(path: string): Promise<{ usage: ChatUsage | undefined; timings: Usage | undefined }> {
  let usage: ChatUsage | undefined;
  let timings: Usage | undefined;
  for (const chunk of await chunksOf(path)) {
    const found = chunk.usage ?? chunk.x_groq?.usage;
    if (found && (found.prompt_tokens != null || found.completion_tokens != null)) usage = found;
    timings = timingsUsage(chunk.timings) ?? timings;
  }
  return { usage, timings };
}

test.each([
  ["openai-chat/message-cached-tokens.json", { input_tokens: 8, output_tokens: 4, cache_read_input_tokens: 4012 }],
  ["deepseek-or-reasoning/deepseek-message-cache-hit.json", { input_tokens: 175, output_tokens: 144, cache_read_input_tokens: 320 }],
  ["openrouter/stream-text-usage-cost.sse", { input_tokens: 586, output_tokens: 3, cache_read_input_tokens: 0 }],
  ["llamacpp/completion-reasoning-content-timings.json", { input_tokens: 63, output_tokens: 381, cache_read_input_tokens: 0 }],
])("%s → %o", async (path, expected) => {
  const { usage, timings } = await usageOf(path);
  expect(convertUsage(usage, timings, 0)).toEqual(expected);
});

test("llama.cpp's timings count when there is no usage: prompt_n already excludes the reused cache_n", async () => {
  const { timings } = await usageOf("llamacpp/stream-content-then-tool-call-timings.chunks.txt");
  expect(timings).toBeDefined();
  expect(convertUsage(undefined, timings, 0)).toEqual(timings as Usage);
  expect(timingsUsage({ prompt_n: 10, cache_n: 90, predicted_n: 5 })).toEqual({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90 });
  expect(timingsUsage({ prompt_n: 10 })).toBeUndefined();
});

test("OpenRouter's cache writes for Claude are cache_creation_input_tokens, apart from input", () => {
  expect(convertUsage({ prompt_tokens: 1000, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 800 } }, undefined, 0)).toEqual({
    input_tokens: 100,
    output_tokens: 2,
    cache_read_input_tokens: 100,
    cache_creation_input_tokens: 800,
  });
});

test("no counts at all: about four characters per token of output, so budgets still move", () => {
  expect(convertUsage(undefined, undefined, 10)).toEqual({ input_tokens: 0, output_tokens: 3 });
});
