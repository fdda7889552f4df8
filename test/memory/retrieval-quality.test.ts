import { expect, test } from "bun:test";
import { evaluateRetrieval } from "../../bench/suites/memory.ts";

// The labelled set behind `bun run bench memory`: no memory ever crosses projects, and recall@5
// stays at the level measured when it was written (0.875; misses need synonyms, not words).

test("retrieval on the labelled set: zero cross-project hits, recall@5 at least 0.85", () => {
  const quality = evaluateRetrieval();
  expect(quality.memories).toBeGreaterThanOrEqual(30);
  expect(quality.queries).toBeGreaterThanOrEqual(20);
  expect(quality.perProject).toHaveLength(3);
  expect(quality.crossProjectHits).toBe(0);
  expect(quality.recallAt5).toBeGreaterThanOrEqual(0.85);
});
