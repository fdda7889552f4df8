import { z } from "zod";

// Running several replicas as one gateway: where their shared hot state lives (rate-limit
// buckets, budget reservations and spend, circuit breakers). Unset: everything stays in process.

function redisUrl() {
  return z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          const u = new URL(v);
          return (u.protocol === "redis:" || u.protocol === "rediss:") && u.hostname !== "";
        } catch {
          return false;
        }
      },
      { error: "expected a redis:// or rediss:// URL, e.g. redis://redis:6379/0" },
    )
    .optional();
}

export const scaleEnv = {
  /** Redis shared by every replica; unset: one process, state in process. */
  LYNKR_REDIS_URL: redisUrl(),
};
