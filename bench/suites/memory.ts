import { readFileSync } from "node:fs";
import { join } from "node:path";
import { retrieve } from "../../src/memory/retrieve.ts";
import { globalScope, projectScope } from "../../src/memory/scope.ts";
import { MemoryService } from "../../src/memory/service.ts";
import { SqliteMemoryStore } from "../../src/memory/sqlite-store.ts";
import type { MemoryStore } from "../../src/memory/store.ts";
import { PostgresMemoryStore } from "../../src/memory/postgres-store.ts";
import { openDatabase } from "../../src/store/db.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { startPostgresServer } from "../../test/helpers/postgres-server.ts";
import type { BenchSection } from "../lib.ts";

// Retrieval quality on a labelled set (test/fixtures/memory/retrieval-set.json), on each store:
// SQLite (FTS5, BM25) and PostgreSQL (tsvector, ts_rank_cd): recall@5 (share of the expected
// memories among the first five a new session would get) and cross-project hits (memories of
// another project among them: must be 0).

interface RetrievalSet {
  projects: Record<string, Record<string, string>>;
  queries: { project: string; query: string; expected: string[] }[];
}

export interface RetrievalQuality {
  memories: number;
  queries: number;
  recallAt5: number;
  perProject: { project: string; queries: number; recallAt5: number }[];
  crossProjectHits: number;
  misses: { query: string; missing: string[] }[];
}

/** The set, learnt into an empty `store`, then queried as new sessions would be. */
export async function evaluateRetrieval(store: MemoryStore): Promise<RetrievalQuality> {
  const set = JSON.parse(readFileSync(join(import.meta.dir, "../../test/fixtures/memory/retrieval-set.json"), "utf8")) as RetrievalSet;
  const memory = new MemoryService(store, { MEMORY_MAX_AGE_DAYS: 365, MEMORY_MAX_COUNT: 500, MEMORY_DECAY_HALF_LIFE: 30, MEMORY_MAX_TOKENS: 100_000 });
  const keyOf = new Map<number, { project: string; key: string }>();
  const now = Date.now();
  for (const [project, memories] of Object.entries(set.projects)) {
    for (const [key, text] of Object.entries(memories)) {
      const outcome = await memory.add(projectScope(project, false), text, now);
      if (outcome.kind !== "stored") throw new Error(`${project} ${key}: ${outcome.kind} instead of stored (the set must not hold near-duplicates)`);
      keyOf.set(outcome.id, { project, key });
    }
  }
  let crossProjectHits = 0;
  const misses: RetrievalQuality["misses"] = [];
  const recalls = new Map<string, number[]>();
  for (const q of set.queries) {
    const top = (await retrieve(memory.store, { scopes: [projectScope(q.project, false), globalScope], query: q.query, halfLifeDays: 30, maxTokens: 100_000, now })).slice(0, 5);
    const got = top.map((m) => keyOf.get(m.id));
    crossProjectHits += got.filter((g) => g?.project !== q.project).length;
    const keys = new Set(got.filter((g) => g?.project === q.project).map((g) => g?.key));
    const missing = q.expected.filter((k) => !keys.has(k));
    if (missing.length > 0) misses.push({ query: q.query, missing });
    recalls.set(q.project, [...(recalls.get(q.project) ?? []), (q.expected.length - missing.length) / q.expected.length]);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const all = [...recalls.values()].flat();
  return {
    memories: keyOf.size,
    queries: set.queries.length,
    recallAt5: mean(all),
    perProject: [...recalls].map(([project, rs]) => ({ project, queries: rs.length, recallAt5: mean(rs) })),
    crossProjectHits,
    misses,
  };
}

/** Both stores' quality: SQLite in memory, PostgreSQL on a server of its own, started and removed here. */
export async function evaluateBothStores(): Promise<{ store: string; quality: RetrievalQuality }[]> {
  const sqlite = await evaluateRetrieval(new SqliteMemoryStore(openDatabase(":memory:")));
  const server = await startPostgresServer();
  try {
    const sql = await openPostgres(server.url, postgresAreas);
    try {
      return [
        { store: "SQLite (FTS5, BM25)", quality: sqlite },
        { store: "PostgreSQL (tsvector, ts_rank_cd)", quality: await evaluateRetrieval(new PostgresMemoryStore(sql)) },
      ];
    } finally {
      await sql.close();
    }
  } finally {
    await server.close();
  }
}

export default async function memoryBench(): Promise<BenchSection> {
  const results = await evaluateBothStores();
  const first = results[0]?.quality as RetrievalQuality;
  return {
    title: `Memory retrieval quality (${first.memories} memories, ${first.queries} queries, ${first.perProject.length} projects)`,
    columns: ["store", "project", "queries", "recall@5", "cross-project hits"],
    rows: results.flatMap(({ store, quality: q }) => [
      ...q.perProject.map((p) => [store, p.project, p.queries, p.recallAt5.toFixed(3), "-"]),
      [store, "all", q.queries, q.recallAt5.toFixed(3), q.crossProjectHits],
    ]),
    notes: results.flatMap(({ store, quality }) => quality.misses.map((m) => `${store} missed: "${m.query}" → ${m.missing.join(", ")}`)),
  };
}
