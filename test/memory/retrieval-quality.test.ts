import { expect, test } from "bun:test";
import { evaluateBothStores } from "../../bench/suites/memory.ts";

// The labelled set behind `bun run bench memory`, on SQLite (FTS5, BM25) and PostgreSQL (tsvector,
// ts_rank_cd): no memory ever crosses projects, and recall@5 stays at the level measured when it
// was written (0.875 on both; misses need synonyms, not words).

test("retrieval on the labelled set, on both stores: zero cross-project hits, recall@5 at least 0.85", async () => {
  const results = await evaluateBothStores();
  expect(results.map((r) => r.store)).toEqual(["SQLite (FTS5, BM25)", "PostgreSQL (tsvector, ts_rank_cd)"]);
  for (const { quality } of results) {
    expect(quality.memories).toBeGreaterThanOrEqual(30);
    expect(quality.queries).toBeGreaterThanOrEqual(20);
    expect(quality.perProject).toHaveLength(3);
    expect(quality.crossProjectHits).toBe(0);
    expect(quality.recallAt5).toBeGreaterThanOrEqual(0.85);
  }
}, 60_000);
