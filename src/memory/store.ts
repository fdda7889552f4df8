import type { Database } from "bun:sqlite";
import { contradicts, surprise, surpriseThreshold } from "./surprise.ts";
import { jaccard, keywords, overlap, stance } from "./text.ts";

// Memories in SQLite: one row per memory, an FTS5 index over its text (rowid = id), and the
// block each session was given. Writing decides between storing, merging into a near-duplicate
// and superseding a contradicted memory.

export interface Memory {
  id: number;
  scope: string;
  text: string;
  source: "user" | "assistant" | "manual";
  importance: number;
  mentions: number;
  uses: number;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
}

export type LearnOutcome =
  | { kind: "stored"; id: number; superseded: number[] }
  | { kind: "merged"; id: number }
  | { kind: "skipped"; score: number };

interface Row {
  id: number;
  scope: string;
  text: string;
  keywords: string;
  source: Memory["source"];
  importance: number;
  mentions: number;
  uses: number;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
}

const columns = "id, scope, text, keywords, source, importance, mentions, uses, created_at, updated_at, last_used_at";

function toMemory(row: Row): Memory {
  return {
    id: row.id,
    scope: row.scope,
    text: row.text,
    source: row.source,
    importance: row.importance,
    mentions: row.mentions,
    uses: row.uses,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
  };
}

/**
 * Near-duplicates: nearly the same words, or one's words almost all in the other's — when it has
 * a few ("use npm" is not a duplicate of every statement naming npm).
 */
const sameWords = 0.6;
const containedWords = 0.85;
const minContained = 3;

/** An FTS5 query matching any of the words (each quoted: no operator reaches FTS5). */
function anyOf(words: readonly string[]): string {
  return words.map((w) => `"${w.replaceAll('"', "")}"`).join(" OR ");
}

export class MemoryStore {
  constructor(private readonly db: Database) {}

  private rows(scope: string): Row[] {
    return this.db.query<Row, [string]>(`SELECT ${columns} FROM memories WHERE scope = ? ORDER BY id`).all(scope);
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

  /**
   * One statement into a scope: a contradicted memory is replaced by it, a near-duplicate takes
   * its wording (mentions add up), anything else is stored if surprising enough. `force` (a
   * statement added by hand) skips the gate.
   */
  learn(scope: string, text: string, source: Memory["source"], options: { context?: string; force?: boolean; now?: number } = {}): LearnOutcome {
    const now = options.now ?? Date.now();
    return this.db.transaction((): LearnOutcome => {
      const existing = this.rows(scope).map((row) => ({ row, keywords: row.keywords.split(" ").filter(Boolean), stance: stance(row.text) }));
      const words = keywords(text);
      const own = stance(text);
      const contradicted = existing.filter((k) => contradicts(own, k.stance)).map((k) => k.row.id);
      if (contradicted.length === 0) {
        const twin = existing.find(
          (k) => jaccard(words, k.keywords) >= sameWords || (Math.min(words.length, k.keywords.length) >= minContained && overlap(words, k.keywords) >= containedWords),
        );
        if (twin) {
          this.db
            .query("UPDATE memories SET text = ?, keywords = ?, mentions = mentions + 1, updated_at = ?, importance = MAX(importance, ?) WHERE id = ?")
            .run(text, words.join(" "), now, options.force ? 1 : twin.row.importance, twin.row.id);
          this.db.query("UPDATE memories_fts SET text = ? WHERE rowid = ?").run(text, twin.row.id);
          return { kind: "merged", id: twin.row.id };
        }
      }
      const score = options.force ? 1 : surprise(text, existing, options.context ?? "").score;
      if (!options.force && score < surpriseThreshold && contradicted.length === 0) return { kind: "skipped", score };
      this.delete(contradicted);
      const id = this.insert(scope, text, source, score, now);
      return { kind: "stored", id, superseded: contradicted };
    })();
  }

  /** How many memories are kept (the dashboard polls this; list() would read them all). */
  count(): number {
    return this.db.query<{ n: number }, []>("SELECT count(*) AS n FROM memories").get()?.n ?? 0;
  }

  list(scope?: string): Memory[] {
    const rows = scope
      ? this.db.query<Row, [string]>(`SELECT ${columns} FROM memories WHERE scope = ? ORDER BY updated_at DESC, id DESC`).all(scope)
      : this.db.query<Row, []>(`SELECT ${columns} FROM memories ORDER BY scope, updated_at DESC, id DESC`).all();
    return rows.map(toMemory);
  }

  get(id: number): Memory | undefined {
    const row = this.db.query<Row, [number]>(`SELECT ${columns} FROM memories WHERE id = ?`).get(id);
    return row ? toMemory(row) : undefined;
  }

  /** Memories of `scopes` matching any of `words`, with their BM25 relevance (higher is better). */
  matching(scopes: readonly string[], words: readonly string[], limit: number): { memory: Memory; relevance: number }[] {
    if (words.length === 0 || scopes.length === 0) return [];
    const marks = scopes.map(() => "?").join(", ");
    return this.db
      .query<Row & { rank: number }, (string | number)[]>(
        `SELECT ${columns.split(", ").map((c) => `m.${c}`).join(", ")}, bm25(memories_fts) AS rank
         FROM memories_fts JOIN memories m ON m.id = memories_fts.rowid
         WHERE memories_fts MATCH ? AND m.scope IN (${marks}) ORDER BY rank LIMIT ?`,
      )
      .all(anyOf(words), ...scopes, limit)
      .map((row) => ({ memory: toMemory(row), relevance: -row.rank }));
  }

  /** Every memory of `scopes`, newest first, up to `limit`. */
  inScopes(scopes: readonly string[], limit: number): Memory[] {
    const marks = scopes.map(() => "?").join(", ");
    return this.db
      .query<Row, (string | number)[]>(`SELECT ${columns} FROM memories WHERE scope IN (${marks}) ORDER BY updated_at DESC LIMIT ?`)
      .all(...scopes, limit)
      .map(toMemory);
  }

  markUsed(ids: readonly number[], now = Date.now()): void {
    const update = this.db.query("UPDATE memories SET uses = uses + 1, last_used_at = ? WHERE id = ?");
    this.db.transaction(() => {
      for (const id of ids) update.run(now, id);
    })();
  }

  forget(id: number): boolean {
    return this.db.transaction(() => {
      const found = this.get(id) !== undefined;
      if (found) this.delete([id]);
      return found;
    })();
  }

  /** Restores exported memories as they were (counts and times kept); returns how many. */
  restore(memories: readonly Omit<Memory, "id">[]): number {
    return this.db.transaction(() => {
      for (const m of memories) {
        const id = this.insert(m.scope, m.text, m.source, m.importance, m.updatedAt, { mentions: m.mentions, uses: m.uses, createdAt: m.createdAt });
        if (m.lastUsedAt !== null) this.db.query("UPDATE memories SET last_used_at = ? WHERE id = ?").run(m.lastUsedAt, id);
      }
      return memories.length;
    })();
  }

  /**
   * Deletes memories neither restated nor used within `maxAgeMs`, then the lowest-ranked beyond
   * `maxCount` in each scope, and session blocks older than `maxAgeMs`. Returns memories deleted.
   */
  prune(maxAgeMs: number, maxCount: number, now = Date.now()): number {
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

  sessionBlock(client: string, sessionId: string): string | undefined {
    return this.db.query<{ block: string }, [string, string]>("SELECT block FROM memory_sessions WHERE client = ? AND session_id = ?").get(client, sessionId)?.block;
  }

  /** The block the conversation got first, under whichever session id it then had. */
  conversationBlock(client: string, conversation: string): string | undefined {
    return this.db
      .query<{ block: string }, [string, string]>("SELECT block FROM memory_sessions WHERE client = ? AND conversation = ? ORDER BY created_at, session_id LIMIT 1")
      .get(client, conversation)?.block;
  }

  /** Keeps the first block a session was given; returns the one kept (another request may have won). */
  keepSessionBlock(client: string, sessionId: string, conversation: string, scope: string, block: string, now = Date.now()): string {
    this.db
      .query("INSERT OR IGNORE INTO memory_sessions (client, session_id, conversation, scope, block, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(client, sessionId, conversation, scope, block, now);
    return this.sessionBlock(client, sessionId) ?? block;
  }
}
