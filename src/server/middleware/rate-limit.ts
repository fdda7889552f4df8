import type { RateLimiter } from "../../usage/rate-limiter.ts";
import type { AdmissionCheck } from "../admission.ts";

/** Takes a turn from the client's allowance; its answer carries anthropic-ratelimit-* headers. */
export function rateLimitCheck(limiter: RateLimiter): AdmissionCheck {
  return (c) => {
    const facts = c.get("facts");
    try {
      return limiter.admit(facts.client);
    } catch (error) {
      facts.rejected = "rate_limited";
      throw error;
    }
  };
}
