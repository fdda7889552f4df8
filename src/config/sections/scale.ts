import { int, urlWith } from "../fields.ts";

// Running several replicas as one gateway: where their shared state lives. Redis: the hot state
// (rate-limit buckets, budget reservations and spend, circuit breakers); PostgreSQL: the records
// (sessions and turns, usage). Unset: everything stays in process and in the SQLite file.

export const scaleEnv = {
  /** Redis shared by every replica; unset: one process, state in process. */
  LYNKR_REDIS_URL: urlWith(["redis:", "rediss:"], "expected a redis:// or rediss:// URL, e.g. redis://redis:6379/0").optional(),
  /** PostgreSQL shared by every replica (sessions, turns, usage); unset: the embedded SQLite file. */
  LYNKR_DATABASE_URL: urlWith(
    ["postgres:", "postgresql:"],
    "expected a postgres:// or postgresql:// URL, e.g. postgres://lynkr:password@db:5432/lynkr (unset: the embedded SQLite database)",
  ).optional(),
  /** Connections one replica opens at most: replicas × this must stay under the server's max_connections. */
  LYNKR_DATABASE_POOL_MAX: int(10, 1, 200),
};
