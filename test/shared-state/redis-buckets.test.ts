import { expect, test } from "bun:test";
import { RateLimitError } from "../../src/anthropic/errors.ts";
import { RateLimiter } from "../../src/usage/rate-limiter.ts";
import { RedisBuckets } from "../../src/shared-state/redis-buckets.ts";
import { redisForTests } from "../helpers/redis-server.ts";

// Token reservations (estimate before the call, settle to real usage after) on a bucket two
// replicas share through a real redis-server.

const redis = redisForTests();

async function replica(): Promise<RateLimiter> {
  return new RateLimiter({ requestsPerMinute: 0, tokensPerMinute: 1000 }, new Map(), Date.now, new RedisBuckets(await redis.link()));
}

test("two replicas reserve from one token bucket, and a settle gives back what an answer did not use", async () => {
  const [a, b] = [await replica(), await replica()];
  expect(await a.reserveTokens("team", 600)).toBe(600);
  // 400 left for both: replica b cannot take 600 more.
  const refused = await Promise.resolve(b.reserveTokens("team", 600)).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(RateLimitError);
  expect((refused as RateLimitError).headers["retry-after"]).toBeDefined();
  // a's answer used 100 of its 600: 500 come back, and b's request fits.
  a.settle("team", 600, 100);
  const until = Date.now() + 5_000;
  let taken: number | undefined;
  while (taken === undefined && Date.now() < until) {
    taken = await Promise.resolve(b.reserveTokens("team", 600)).catch(() => undefined);
  }
  expect(taken).toBe(600);
  // The headers say what the shared bucket holds.
  const headers = await b.admit("team");
  expect(Number(headers["anthropic-ratelimit-tokens-remaining"])).toBeLessThan(400);
});
