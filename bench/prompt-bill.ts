// How an upstream with an OpenAI-style prefix cache bills a run of prompts, and how much of each
// prompt the next one in its thread reuses. A prompt is the token sequence of what the model
// reads, in the order it reads it (tools, then system, then messages).

/** OpenAI caches prompts of at least 1,024 tokens, and hits in steps of 128 tokens beyond that. */
export const cacheMinimum = 1024;
export const cacheStep = 128;

export function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Tokens of a `matched`-token prefix the cache serves. */
export function cachedTokens(matched: number): number {
  if (matched < cacheMinimum) return 0;
  return cacheMinimum + Math.floor((matched - cacheMinimum) / cacheStep) * cacheStep;
}

export interface Bill {
  prompt: number;
  cached: number;
}

/** One cache shared by every prompt sent to it: each prompt hits its longest prefix seen before. */
export class PrefixCache {
  private readonly seen: number[][] = [];

  send(tokens: number[]): Bill {
    let best = 0;
    for (const earlier of this.seen) best = Math.max(best, commonPrefix(earlier, tokens));
    this.seen.push(tokens);
    return { prompt: tokens.length, cached: cachedTokens(best) };
  }
}

/** Billed tokens when cached ones cost `rate` of a full-price token. */
export function billed(bills: Bill[], rate: number): number {
  let total = 0;
  for (const { prompt, cached } of bills) total += prompt - cached + rate * cached;
  return total;
}

/**
 * Share of each request's tokens that the next request of its thread starts with, over the
 * thread (tokens kept / tokens sent, consecutive pairs only); 1 for a thread of one request.
 */
export function prefixStability(thread: number[][]): number {
  let kept = 0;
  let total = 0;
  for (let i = 0; i + 1 < thread.length; i++) {
    const current = thread[i] as number[];
    kept += commonPrefix(current, thread[i + 1] as number[]);
    total += current.length;
  }
  return total === 0 ? 1 : kept / total;
}
