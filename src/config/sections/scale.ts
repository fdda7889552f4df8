import { urlWith } from "../fields.ts";

// Running several replicas as one gateway: where their shared hot state lives (rate-limit
// buckets, budget reservations and spend, circuit breakers). Unset: everything stays in process.

export const scaleEnv = {
  /** Redis shared by every replica; unset: one process, state in process. */
  LYNKR_REDIS_URL: urlWith(["redis:", "rediss:"], "expected a redis:// or rediss:// URL, e.g. redis://redis:6379/0").optional(),
};
