import { expect, test } from "bun:test";
import { RateLimitError } from "../../src/anthropic/errors.ts";
import { RateLimiter } from "../../src/usage/rate-limiter.ts";

/** In-process buckets answer at once: the request path stays synchronous without a shared store. */
function sync<T>(value: T | Promise<T>): T {
  if (value instanceof Promise) throw new Error("the in-process limiter answered with a promise");
  return value;
}

test("buckets refill continuously and say when to come back", () => {
  let now = 1_000_000;
  const limiter = new RateLimiter({ requestsPerMinute: 60, tokensPerMinute: 600 }, new Map(), () => now);
  for (let i = 0; i < 60; i++) limiter.admit("c");
  const refused = (() => {
    try {
      limiter.admit("c");
    } catch (error) {
      return error;
    }
  })();
  expect(refused).toBeInstanceOf(RateLimitError);
  expect((refused as RateLimitError).headers["retry-after"]).toBe("1");
  now += 1000; // one request's worth at 60 per minute
  expect(sync(limiter.admit("c"))["anthropic-ratelimit-requests-remaining"]).toBe("0");
  // Another client has its own bucket.
  expect(sync(limiter.admit("d"))["anthropic-ratelimit-requests-remaining"]).toBe("59");
});

test("tokens are reserved before the call and settled to the answer's usage, which can run the bucket below zero", () => {
  let now = 0;
  const limiter = new RateLimiter({ requestsPerMinute: 0, tokensPerMinute: 600 }, new Map([["big", { requestsPerMinute: 0, tokensPerMinute: 0 }]]), () => now);
  limiter.admit("c");
  const reserved = sync(limiter.reserveTokens("c", 100));
  expect(reserved).toBe(100);
  limiter.settle("c", reserved, 1200);
  let error: unknown;
  try {
    limiter.admit("c");
  } catch (e) {
    error = e;
  }
  // 601 tokens short at 10 per second: 61 s.
  expect((error as RateLimitError).headers["retry-after"]).toBe("61");
  now += 61_000;
  expect(() => limiter.admit("c")).not.toThrow();
  // A key with 0/0 is unlimited, whatever it spends.
  limiter.settle("big", sync(limiter.reserveTokens("big", 1e9)), 1e9);
  expect(() => limiter.admit("big")).not.toThrow();
});

test("concurrent requests cannot all pass on the bucket's last tokens: each reserves its estimate first", () => {
  const limiter = new RateLimiter({ requestsPerMinute: 0, tokensPerMinute: 1000 }, new Map(), () => 0);
  // 20 requests in flight, each estimated at 300 tokens (input + max_tokens): 3 fit in 1000.
  let admitted = 0;
  for (let i = 0; i < 20; i++) {
    try {
      limiter.admit("c");
      limiter.reserveTokens("c", 300);
      admitted++;
    } catch (error) {
      expect(error).toBeInstanceOf(RateLimitError);
    }
  }
  expect(admitted).toBe(3);
  // A request larger than the whole bucket still passes a full bucket (it could never pass otherwise).
  expect(limiter.reserveTokens("fresh", 5000)).toBe(1000);
});

test("a failed request gives its reservation back", () => {
  const limiter = new RateLimiter({ requestsPerMinute: 0, tokensPerMinute: 1000 }, new Map(), () => 0);
  limiter.settle("c", sync(limiter.reserveTokens("c", 900)), 0);
  expect(limiter.reserveTokens("c", 900)).toBe(900);
});
