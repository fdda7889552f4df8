import type { RateLimiter } from "../rate-limiter.ts";
import type { AdmissionCheck } from "./admit.ts";

/** Takes a /v1/messages request from the client's allowance; its answer carries anthropic-ratelimit-* headers. */
export function rateLimitCheck(limiter: RateLimiter): AdmissionCheck {
  return (c) => {
    if (c.req.path !== "/v1/messages") return undefined;
    const facts = c.get("facts");
    try {
      return limiter.admit(facts.client).headers;
    } catch (error) {
      facts.rejected = "rate_limited";
      throw error;
    }
  };
}
