import type { RateLimiter } from "../../usage/rate-limiter.ts";
import type { AdmissionCheck } from "../admission.ts";

/** Takes a turn from the client's allowance; its answer carries anthropic-ratelimit-* headers. */
export function rateLimitCheck(limiter: RateLimiter): AdmissionCheck {
  return (c) => {
    const facts = c.get("facts");
    const refused = (error: unknown): never => {
      facts.rejected = "rate_limited";
      throw error;
    };
    try {
      // In process the answer is immediate; shared by replicas (Redis) it is a promise.
      const headers = limiter.admit(facts.client);
      return headers instanceof Promise ? headers.catch(refused) : headers;
    } catch (error) {
      return refused(error);
    }
  };
}
