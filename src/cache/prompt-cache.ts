import type { Database } from "bun:sqlite";
import type { Message } from "../anthropic/schema.ts";
import { logger } from "../observability/logger.ts";
import type { PromptKey } from "./key.ts";
import { Lru } from "./lru.ts";

// Answers to repeated prompts, kept in memory (LRU) with SQLite behind it so a restart keeps
// them. An entry holds the Message and, when the answer was streamed, its events exactly as
// they were sent, so a streamed hit is byte-identical to the original stream.
//
// Cost is kept off the common path: memory is indexed by the request's fingerprint (CRC-32 of
// its bytes, see key.ts), so a new turn is known to miss without SHA-256, which runs only to
// confirm a fingerprint match and for an answer written to disk (~35 µs on a Claude Code
// request): most stored answers are never asked for again, so an answer's key waits until one
// of those needs it. Entries reach the disk in batches (one transaction per `flushMs`, newest
// `maxEntries` only, so of a burst the rest are never hashed): a commit per answer cost more
// than the rest of the cache together. A crash only loses what a cache may lose.

export interface CachedFrame {
  type: string;
  /** The `data:` text as it went to the client. */
  data: string;
}

export interface CacheEntry {
  message: Message;
  frames?: CachedFrame[];
  fingerprint: number;
  expiresAt: number;
}

/** Only finished answers that call no tools: a tool call's result belongs to its moment. */
export function isCacheable(message: Message): boolean {
  if (message.stop_reason !== "end_turn" && message.stop_reason !== "stop_sequence" && message.stop_reason !== "max_tokens") return false;
  return !message.content.some((block) => block.type === "tool_use" || block.type === "server_tool_use");
}

/** `id` computes the SHA-256 key when first needed. */
type Stored = CacheEntry & { id: PromptKey; createdAt: number };

export class PromptCache {
  /** Fingerprint → entry, for answers stored by this process. */
  private readonly memory: Lru<number, Stored>;
  private readonly select;
  private readonly upsert;
  private readonly remove;
  private readonly trim;
  /** Answers not yet on disk: only the newest `maxEntries` would survive the disk trim anyway. */
  private readonly pending: Lru<number, Stored>;
  /** Fingerprint → latest expiry of an entry on disk with it; only those can still hit there. */
  private readonly onDisk: Lru<number, number>;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly flushMs = 1000,
  ) {
    this.memory = new Lru(maxEntries);
    this.pending = new Lru(maxEntries);
    this.onDisk = new Lru(maxEntries * 4);
    this.select = db.query<{ entry: string; expires_at: number }, { key: string }>(
      "SELECT entry, expires_at FROM prompt_cache WHERE key = $key",
    );
    this.upsert = db.query(
      `INSERT INTO prompt_cache (key, created_at, expires_at, entry) VALUES ($key, $now, $expires, $entry)
       ON CONFLICT(key) DO UPDATE SET created_at = $now, expires_at = $expires, entry = $entry`,
    );
    this.remove = db.query("DELETE FROM prompt_cache WHERE key = $key OR expires_at <= $now");
    // Keeps the newest `max` entries on disk too.
    this.trim = db.query(
      "DELETE FROM prompt_cache WHERE expires_at <= $now OR key NOT IN (SELECT key FROM prompt_cache ORDER BY created_at DESC LIMIT $max)",
    );
    // An unreadable row (json_type would throw on it) is left out here, and dropped the first
    // time its key is looked up.
    const live = db.query<{ fingerprint: number; expires_at: number }, { now: number }>(
      `SELECT json_extract(entry, '$.fingerprint') AS fingerprint, MAX(expires_at) AS expires_at FROM prompt_cache
       WHERE expires_at > $now AND json_type(CASE WHEN json_valid(entry) THEN entry END, '$.fingerprint') = 'integer'
       GROUP BY fingerprint`,
    );
    for (const row of live.all({ now: this.now() })) this.onDisk.set(row.fingerprint, row.expires_at);
  }

  get(id: PromptKey): CacheEntry | undefined {
    const now = this.now();
    const fingerprint = id.fingerprint();
    const stored = this.memory.get(fingerprint);
    if (stored !== undefined) {
      if (stored.expiresAt <= now) {
        this.memory.delete(fingerprint);
        return undefined;
      }
      // Equal fingerprints of different requests are possible, if unlikely: the key decides.
      return stored.id.key() === id.key() ? stored : undefined;
    }
    // Not stored by this process: only an entry from before a restart can still answer.
    if ((this.onDisk.get(fingerprint) ?? 0) <= now) return undefined;
    const key = id.key();
    const row = this.select.get({ key });
    if (!row) return undefined;
    if (row.expires_at <= now) {
      this.remove.run({ key, now });
      return undefined;
    }
    try {
      const entry = { ...(JSON.parse(row.entry) as Omit<CacheEntry, "expiresAt">), expiresAt: row.expires_at };
      this.memory.set(fingerprint, { ...entry, id, createdAt: now });
      return entry;
    } catch {
      this.remove.run({ key, now });
      return undefined;
    }
  }

  set(id: PromptKey, message: Message, frames: CachedFrame[] | undefined): void {
    const now = this.now();
    const fingerprint = id.fingerprint();
    const stored: Stored = { message, frames, fingerprint, expiresAt: now + this.ttlMs, id, createdAt: now };
    this.memory.set(fingerprint, stored);
    this.pending.set(fingerprint, stored);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes pending entries and trims the disk copy to the newest `maxEntries`. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const now = this.now();
    try {
      this.db.transaction(() => {
        for (const e of this.pending.values()) {
          const entry = JSON.stringify({ message: e.message, frames: e.frames, fingerprint: e.fingerprint });
          this.upsert.run({ key: e.id.key(), now: e.createdAt, expires: e.expiresAt, entry });
          this.onDisk.set(e.fingerprint, Math.max(e.expiresAt, this.onDisk.get(e.fingerprint) ?? 0));
        }
        this.trim.run({ now, max: this.maxEntries });
      })();
    } catch (error) {
      // The in-memory entries still serve; losing the disk copy only costs misses after a restart.
      logger.warn("could not store prompt cache entries", { error: String(error) });
    }
    this.pending.clear();
  }
}
