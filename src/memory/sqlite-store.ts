import type { Database } from "bun:sqlite";
import { decideLearning, memoryColumns, toMemory, type LearnOptions, type KeptBlock, type LearnOutcome, type Memory, type MemoryRow, type MemoryStore, type StoredMemory } from "./store.ts";
import { keywords } from "./text.ts";

// Memories in the embedded SQLite file: one row per memory, an FTS5 index over its text
// (rowid = id, ranked by BM25), and the block each session was given. Every call is synchronous
// underneath; the promises only give it the shape PostgreSQL needs.

/** An FTS5 query matching any of the words (each quoted: no operator reaches FTS5). */
function anyOf(words: readonly string[]): string {
  return words.map((w) => `"${w.replaceAll('"', "")}"`).join(" OR ");
}

export class SqliteMemoryStore implements MemoryStore {
  constructor(private readonly db: Database) {}

  private rows(scope: string): Pick<StoredMemory, "id" | "text" | "keywords" | "importance">[] {
    return this.db.query<Pick<StoredMemory, "id" | "text" | "keywords" | "importance">, [string]>("SELECT id, text, keywords, importance FROM memories WHERE scope = ? ORDER BY id").all(scope);
  }

  private insert(scope: string, text: string, source: Memory["source"], importance: number, now: number, extra?: { mentions?: number; uses?: number; createdAt?: number }): number {
    const row = this.db
      .query<{ id: number }, [string, string, string, string, number, number, number, number, number]>(
        "INSERT INTO memories (scope, text, keywords, source, importance, mentions, uses, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      )
      .get(scope, text, keywords(text).join(" "), source, importance, extra?.mentions ?? 1, extra?.uses ?? 0, extra?.createdAt ?? now, now);
    const id = (row as { id: number }).id;
    this.db.query("INSERT INTO memories_fts (rowid, text) VALUES (?, ?)").run(id, text);
    return id;
  }

  private delete(ids: readonly number[]): void {
    for (const id of ids) {
      this.db.query("DELETE FROM memories WHERE id = ?").run(id);
      this.db.query("DELETE FROM memories_fts WHERE rowid = ?").run(id);
    }
  }

  async learn(scope: string, text: string, source: Memory["source"], options: LearnOptions = {}): Promise<LearnOutcome> {
    const now = options.now ?? Date.now();
    return this.db.transaction((): LearnOutcome => {
      const decision = decideLearning(this.rows(scope), text, options);
      if (decision.kind === "skip") return { kind: "skipped", score: decision.score };
      if (decision.kind === "merge") {
        this.db
          .query("UPDATE memories SET text = ?, keywords = ?, mentions = mentions + 1, updated_at = ?, importance = MAX(importance, ?) WHERE id = ?")
          .run(text, decision.keywords, now, decision.importance, decision.id);
        this.db.query("UPDATE memories_fts SET text = ? WHERE rowid = ?").run(text, decision.id);
        return { kind: "merged", id: decision.id };
      }
      this.delete(decision.supersede);
      const id = this.insert(scope, text, source, decision.importance, now);
      return { kind: "stored", id, superseded: decision.supersede };
    })();
  }

  async count(): Promise<number> {
    return this.db.query<{ n: number }, []>("SELECT count(*) AS n FROM memories").get()?.n ?? 0;
  }

  async list(scope?: string): Promise<Memory[]> {
    const rows = scope
      ? this.db.query<MemoryRow, [string]>(`SELECT ${memoryColumns} FROM memories WHERE scope = ? ORDER BY updated_at DESC, id DESC`).all(scope)
      : this.db.query<MemoryRow, []>(`SELECT ${memoryColumns} FROM memories ORDER BY scope, updated_at DESC, id DESC`).all();
    return rows.map(toMemory);
  }

  private getNow(id: number): Memory | undefined {
    const row = this.db.query<MemoryRow, [number]>(`SELECT ${memoryColumns} FROM memories WHERE id = ?`).get(id);
    return row ? toMemory(row) : undefined;
  }

  async get(id: number): Promise<Memory | undefined> {
    return this.getNow(id);
  }

  async matching(scopes: readonly string[], words: readonly string[], limit: number): Promise<{ memory: Memory; relevance: number }[]> {
    if (words.length === 0 || scopes.length === 0) return [];
    const marks = scopes.map(() => "?").join(", ");
    return this.db
      .query<MemoryRow & { rank: number }, (string | number)[]>(
        `SELECT ${memoryColumns.split(", ").map((c) => `m.${c}`).join(", ")}, bm25(memories_fts) AS rank
         FROM memories_fts JOIN memories m ON m.id = memories_fts.rowid
         WHERE memories_fts MATCH ? AND m.scope IN (${marks}) ORDER BY rank LIMIT ?`,
      )
      .all(anyOf(words), ...scopes, limit)
      .map((row) => ({ memory: toMemory(row), relevance: -row.rank }));
  }

  async inScopes(scopes: readonly string[], limit: number): Promise<Memory[]> {
    const marks = scopes.map(() => "?").join(", ");
    return this.db
      .query<MemoryRow, (string | number)[]>(`SELECT ${memoryColumns} FROM memories WHERE scope IN (${marks}) ORDER BY updated_at DESC LIMIT ?`)
      .all(...scopes, limit)
      .map(toMemory);
  }

  async markUsed(ids: readonly number[], now = Date.now()): Promise<void> {
    const update = this.db.query("UPDATE memories SET uses = uses + 1, last_used_at = ? WHERE id = ?");
    this.db.transaction(() => {
      for (const id of ids) update.run(now, id);
    })();
  }

  async forget(id: number): Promise<boolean> {
    return this.db.transaction(() => {
      const found = this.getNow(id) !== undefined;
      if (found) this.delete([id]);
      return found;
    })();
  }

  async restore(memories: readonly Omit<Memory, "id">[]): Promise<number> {
    return this.db.transaction(() => {
      for (const m of memories) {
        const id = this.insert(m.scope, m.text, m.source, m.importance, m.updatedAt, { mentions: m.mentions, uses: m.uses, createdAt: m.createdAt });
        if (m.lastUsedAt !== null) this.db.query("UPDATE memories SET last_used_at = ? WHERE id = ?").run(m.lastUsedAt, id);
      }
      return memories.length;
    })();
  }

  async prune(maxAgeMs: number, maxCount: number, now = Date.now()): Promise<number> {
    return this.db.transaction(() => {
      const cutoff = now - maxAgeMs;
      const old = this.db
        .query<{ id: number }, [number]>("SELECT id FROM memories WHERE MAX(updated_at, COALESCE(last_used_at, 0)) < ?")
        .all(cutoff)
        .map((r) => r.id);
      const excess = this.db
        .query<{ id: number }, [number]>(
          `SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY scope ORDER BY importance * mentions DESC, updated_at DESC) AS n FROM memories) WHERE n > ?`,
        )
        .all(maxCount)
        .map((r) => r.id);
      const ids = [...new Set([...old, ...excess])];
      this.delete(ids);
      this.db.query("DELETE FROM memory_sessions WHERE created_at < ?").run(cutoff);
      return ids.length;
    })();
  }

  private sessionBlockNow(client: string, sessionId: string): KeptBlock | undefined {
    const row = this.db.query<{ block: string; created_at: number }, [string, string]>("SELECT block, created_at FROM memory_sessions WHERE client = ? AND session_id = ?").get(client, sessionId);
    return row ? { block: row.block, createdAt: row.created_at } : undefined;
  }

  async sessionBlock(client: string, sessionId: string): Promise<KeptBlock | undefined> {
    return this.sessionBlockNow(client, sessionId);
  }

  async conversationBlock(client: string, conversation: string): Promise<string | undefined> {
    return this.db
      .query<{ block: string }, [string, string]>("SELECT block FROM memory_sessions WHERE client = ? AND conversation = ? ORDER BY created_at, session_id LIMIT 1")
      .get(client, conversation)?.block;
  }

  async keepSessionBlock(client: string, sessionId: string, conversation: string, scope: string, block: string, now = Date.now()): Promise<KeptBlock> {
    this.db
      .query("INSERT OR IGNORE INTO memory_sessions (client, session_id, conversation, scope, block, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(client, sessionId, conversation, scope, block, now);
    return this.sessionBlockNow(client, sessionId) ?? { block, createdAt: now };
  }
}
