import { bool, int } from "../fields.ts";

// Long-term memory per project (src/memory/): what users state about their projects, kept across
// sessions and injected once per session.

export const memoryEnv = {
  MEMORY_ENABLED: bool(true),
  /** Memories neither restated nor used for this many days are deleted. */
  MEMORY_MAX_AGE_DAYS: int(180, 1),
  /** Per project; the lowest-ranked go first. */
  MEMORY_MAX_COUNT: int(200, 1),
  /** Days after which a memory's recency weight halves (retrieval ranking). */
  MEMORY_DECAY_HALF_LIFE: int(30, 1),
  /** Ceiling of the injected block, in tokens (cl100k). */
  MEMORY_MAX_TOKENS: int(600, 50, 8000),
};
