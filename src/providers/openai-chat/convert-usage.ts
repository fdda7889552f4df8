import type { Usage } from "../../anthropic/schema.ts";
import type { ChatChunk, ChatUsage } from "./wire.ts";

// OpenAI-style token counts → Anthropic usage. Anthropic counts cache reads and writes apart
// from input_tokens; OpenAI counts them inside prompt_tokens.

/** llama.cpp's own counts from `timings`: prompt_n excludes the cache_n tokens it reused from its KV cache. */
export function timingsUsage(timings: ChatChunk["timings"]): Usage | undefined {
  if (timings?.predicted_n == null) return undefined;
  return { input_tokens: timings.prompt_n ?? 0, output_tokens: timings.predicted_n, cache_read_input_tokens: timings.cache_n ?? 0 };
}

/**
 * The answer's usage: the upstream's `usage` (cache reads from OpenAI's cached_tokens,
 * DeepSeek's prompt_cache_hit_tokens or llama.cpp's cache_n), else llama.cpp's timings, else
 * an estimate of about four characters per token, so that budgets still move.
 */
export function convertUsage(usage: ChatUsage | undefined, timings: Usage | undefined, outputChars: number): Usage {
  if (usage) {
    const prompt = usage.prompt_tokens ?? 0;
    const cached = usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? timings?.cache_read_input_tokens ?? 0;
    // OpenRouter reports Claude's cache writes.
    const written = usage.prompt_tokens_details?.cache_write_tokens ?? 0;
    return {
      input_tokens: Math.max(0, prompt - cached - written),
      output_tokens: usage.completion_tokens ?? 0,
      cache_read_input_tokens: cached,
      ...(written > 0 ? { cache_creation_input_tokens: written } : {}),
    };
  }
  if (timings) return timings;
  return { input_tokens: 0, output_tokens: Math.ceil(outputChars / 4) };
}
