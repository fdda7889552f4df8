import type { SQL } from "bun";
import { decideLearning, memoryColumns, toMemory, type LearnOptions, type KeptBlock, type LearnOutcome, type Memory, type MemoryRow, type MemoryStore } from "./store.ts";
import { keywords } from "./text.ts";

// Memories in PostgreSQL, shared by every replica (tables: src/store/postgres/memory-migrations.ts).
// Full-text search is PostgreSQL's: the query's words OR-ed into one tsquery (each parsed by
// plainto_tsquery, slashes and dots read as spaces as in the indexed text, so no operator of the
// user's reaches it) against the GIN-indexed tsvector, ranked by ts_rank_cd. Learning into a scope is serialised across replicas by an advisory lock
// on the scope, so two replicas learning the same statement at once merge it instead of storing it twice.

/**
 * ts_rank_cd of a one-sentence memory is a fraction (0.1 per matching word, about), where BM25
 * gives a few units: scaled so relevance weighs against recency, importance and uses as it does
 * on SQLite.
 */
const relevanceScale = 10;

type Tx = Pick<SQL, "unsafe">;

interface KeptRow {
  block: string;
  created_at: string | number;
}

function kept(row: KeptRow): KeptBlock {
  return { block: row.block, createdAt: Number(row.created_at) };
}

/**
 * The rows of an id array parameter, locked in id order: every statement changing several
 * memories takes their locks in the same order, so replicas pruning, superseding and marking
 * uses at once wait for each other instead of deadlocking.
 */
function inIdOrder(param: string): string {
  return `SELECT id FROM memories WHERE id = ANY(${param}::bigint[]) ORDER BY id FOR UPDATE`;
}

export class PostgresMemoryStore implements MemoryStore {
  constructor(private readonly sql: SQL) {}

  private async insert(tx: Tx, scope: string, text: string, source: Memory["source"], importance: number, now: number, extra?: Partial<Pick<Memory, "mentions" | "uses" | "createdAt" | "lastUsedAt">>): Promise<number> {
    const [row] = (await tx.unsafe(
      "INSERT INTO memories (scope, text, keywords, source, importance, mentions, uses, created_at, updated_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
      [scope, text, keywords(text).join(" "), source, importance, extra?.mentions ?? 1, extra?.uses ?? 0, extra?.createdAt ?? now, now, extra?.lastUsedAt ?? null],
    )) as { id: string }[];
    return Number(row?.id);
  }

  async learn(scope: string, text: string, source: Memory["source"], options: LearnOptions = {}): Promise<LearnOutcome> {
    const now = options.now ?? Date.now();
    return this.sql.begin(async (tx): Promise<LearnOutcome> => {
      await tx.unsafe("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`lynkr-memory:${scope}`]);
      const rows = (await tx.unsafe("SELECT id, text, keywords, importance FROM memories WHERE scope = $1 ORDER BY id", [scope])) as Pick<MemoryRow, "id" | "text" | "keywords" | "importance">[];
      const existing = rows.map((row) => ({ ...row, id: Number(row.id) }));
      const decision = decideLearning(existing, text, options);
      if (decision.kind === "skip") return { kind: "skipped", score: decision.score };
      if (decision.kind === "merge") {
        await tx.unsafe("UPDATE memories SET text = $1, keywords = $2, mentions = mentions + 1, updated_at = $3, importance = GREATEST(importance, $4) WHERE id = $5", [
          text,
          decision.keywords,
          now,
          decision.importance,
          decision.id,
        ]);
        return { kind: "merged", id: decision.id };
      }
      if (decision.supersede.length > 0) await tx.unsafe(`DELETE FROM memories WHERE id IN (${inIdOrder("$1")})`, [decision.supersede]);
      const id = await this.insert(tx, scope, text, source, decision.importance, now);
      return { kind: "stored", id, superseded: decision.supersede };
    });
  }

  async count(): Promise<number> {
    const [row] = (await this.sql.unsafe("SELECT count(*)::int AS n FROM memories")) as { n: number }[];
    return row?.n ?? 0;
  }

  async list(scope?: string): Promise<Memory[]> {
    const rows = (
      scope
        ? await this.sql.unsafe(`SELECT ${memoryColumns} FROM memories WHERE scope = $1 ORDER BY updated_at DESC, id DESC`, [scope])
        : await this.sql.unsafe(`SELECT ${memoryColumns} FROM memories ORDER BY scope, updated_at DESC, id DESC`)
    ) as MemoryRow[];
    return rows.map(toMemory);
  }

  async get(id: number): Promise<Memory | undefined> {
    const [row] = (await this.sql.unsafe(`SELECT ${memoryColumns} FROM memories WHERE id = $1`, [id])) as MemoryRow[];
    return row ? toMemory(row) : undefined;
  }

  async matching(scopes: readonly string[], words: readonly string[], limit: number): Promise<{ memory: Memory; relevance: number }[]> {
    if (words.length === 0 || scopes.length === 0) return [];
    const rows = (await this.sql.unsafe(
      `WITH q AS (
         SELECT string_agg('(' || part::text || ')', ' | ')::tsquery AS query
         FROM (SELECT plainto_tsquery('english', translate(word, '/.', '  ')) AS part FROM unnest($1::text[]) AS word) parts
         WHERE numnode(part) > 0)
       SELECT ${memoryColumns}, ts_rank_cd(m.search, q.query) AS relevance
       FROM memories m, q
       WHERE m.search @@ q.query AND m.scope = ANY($2::text[])
       ORDER BY relevance DESC, m.id DESC LIMIT $3`,
      [[...words], [...scopes], limit],
    )) as (MemoryRow & { relevance: number })[];
    return rows.map((row) => ({ memory: toMemory(row), relevance: row.relevance * relevanceScale }));
  }

  async inScopes(scopes: readonly string[], limit: number): Promise<Memory[]> {
    const rows = (await this.sql.unsafe(`SELECT ${memoryColumns} FROM memories WHERE scope = ANY($1::text[]) ORDER BY updated_at DESC LIMIT $2`, [[...scopes], limit])) as MemoryRow[];
    return rows.map(toMemory);
  }

  async markUsed(ids: readonly number[], now = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.unsafe(`UPDATE memories SET uses = uses + 1, last_used_at = $1 WHERE id IN (${inIdOrder("$2")})`, [now, [...ids]]);
  }

  async forget(id: number): Promise<boolean> {
    const rows = await this.sql.unsafe("DELETE FROM memories WHERE id = $1 RETURNING id", [id]);
    return rows.length > 0;
  }

  async restore(memories: readonly Omit<Memory, "id">[]): Promise<number> {
    await this.sql.begin(async (tx) => {
      for (const m of memories) {
        await this.insert(tx, m.scope, m.text, m.source, m.importance, m.updatedAt, { mentions: m.mentions, uses: m.uses, createdAt: m.createdAt, lastUsedAt: m.lastUsedAt });
      }
    });
    return memories.length;
  }

  async prune(maxAgeMs: number, maxCount: number, now = Date.now()): Promise<number> {
    const cutoff = now - maxAgeMs;
    return this.sql.begin(async (tx) => {
      // One replica prunes at a time; the others find it done (or being done) and go on.
      const [lock] = (await tx.unsafe("SELECT pg_try_advisory_xact_lock(hashtextextended('lynkr-memory-prune', 0)) AS mine")) as { mine: boolean }[];
      if (!lock?.mine) return 0;
      const deleted = await tx.unsafe(
        `WITH doomed AS (
           SELECT id FROM memories WHERE GREATEST(updated_at, COALESCE(last_used_at, 0)) < $1
             OR id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY scope ORDER BY importance * mentions DESC, updated_at DESC) AS n FROM memories) ranked WHERE n > $2)
           ORDER BY id FOR UPDATE)
         DELETE FROM memories WHERE id IN (SELECT id FROM doomed) RETURNING id`,
        [cutoff, maxCount],
      );
      await tx.unsafe("DELETE FROM memory_sessions WHERE created_at < $1", [cutoff]);
      return deleted.length;
    });
  }

  async sessionBlock(client: string, sessionId: string): Promise<KeptBlock | undefined> {
    const [row] = (await this.sql.unsafe("SELECT block, created_at FROM memory_sessions WHERE client = $1 AND session_id = $2", [client, sessionId])) as KeptRow[];
    return row ? kept(row) : undefined;
  }

  async conversationBlock(client: string, conversation: string): Promise<string | undefined> {
    const [row] = (await this.sql.unsafe("SELECT block FROM memory_sessions WHERE client = $1 AND conversation = $2 ORDER BY created_at, session_id LIMIT 1", [
      client,
      conversation,
    ])) as { block: string }[];
    return row?.block;
  }

  async keepSessionBlock(client: string, sessionId: string, conversation: string, scope: string, block: string, now = Date.now()): Promise<KeptBlock> {
    // Mostly one round trip: the row inserted, else the one another request or replica kept. When
    // that one was still being written as the statement began, its snapshot could not see it:
    // the second read does.
    const [row] = (await this.sql.unsafe(
      `WITH added AS (
         INSERT INTO memory_sessions (client, session_id, conversation, scope, block, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (client, session_id) DO NOTHING RETURNING block, created_at)
       SELECT block, created_at FROM added UNION ALL SELECT block, created_at FROM memory_sessions WHERE client = $1 AND session_id = $2 LIMIT 1`,
      [client, sessionId, conversation, scope, block, now],
    )) as KeptRow[];
    return (row ? kept(row) : await this.sessionBlock(client, sessionId)) ?? { block, createdAt: now };
  }
}
