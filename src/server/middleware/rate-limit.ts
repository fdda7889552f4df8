import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";
import type { RateLimiter } from "../rate-limiter.ts";

/** Takes a request from the client's allowance; answers carry anthropic-ratelimit-* headers. */
export function rateLimit(limiter: RateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const facts = c.get("facts");
    let state;
    try {
      state = limiter.admit(facts.client);
    } catch (error) {
      facts.rejected = "rate_limited";
      throw error;
    }
    await next();
    for (const [name, value] of Object.entries(state.headers)) c.res.headers.set(name, value);
  };
}
