import { expect, test } from "bun:test";
import { RateLimitError } from "../../src/anthropic/errors.ts";
import { RateLimiter } from "../../src/usage/rate-limiter.ts";

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
  expect(limiter.admit("c")["anthropic-ratelimit-requests-remaining"]).toBe("0");
  // Another client has its own bucket.
  expect(limiter.admit("d")["anthropic-ratelimit-requests-remaining"]).toBe("59");
});

test("tokens are charged after the answer and can run the bucket below zero", () => {
  let now = 0;
  const limiter = new RateLimiter({ requestsPerMinute: 0, tokensPerMinute: 600 }, new Map([["big", { requestsPerMinute: 0, tokensPerMinute: 0 }]]), () => now);
  limiter.admit("c");
  limiter.charge("c", 1200);
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
  limiter.charge("big", 1e9);
  expect(() => limiter.admit("big")).not.toThrow();
});
