import type { Database } from "bun:sqlite";
import type { Message } from "../anthropic/schema.ts";
import { logger } from "../observability/logger.ts";
import { Lru } from "./lru.ts";

// Answers to repeated prompts, kept in memory (LRU) with SQLite behind it so a restart keeps
// them. An entry holds the Message and, when the answer was streamed, its events exactly as
// they were sent, so a streamed hit is byte-identical to the original stream. New entries reach
// the disk in batches (one transaction per `flushMs`): a commit per answer cost more than the
// rest of the cache together, and a crash only loses what a cache may lose. Each entry also
// records its request's fingerprint (see key.ts), so most misses are known without a full key.

export interface CachedFrame {
  type: string;
  /** The `data:` text as it went to the client. */
  data: string;
}

export interface CacheEntry {
  message: Message;
  frames?: CachedFrame[];
  fingerprint: string;
  expiresAt: number;
}

/** Only finished answers that call no tools: a tool call's result belongs to its moment. */
export function isCacheable(message: Message): boolean {
  if (message.stop_reason !== "end_turn" && message.stop_reason !== "stop_sequence" && message.stop_reason !== "max_tokens") return false;
  return !message.content.some((block) => block.type === "tool_use" || block.type === "server_tool_use");
}

export class PromptCache {
  private readonly memory: Lru<string, CacheEntry>;
  private readonly select;
  private readonly upsert;
  private readonly remove;
  private readonly trim;
  private readonly pending = new Map<string, CacheEntry & { createdAt: number }>();
  /** Fingerprint → latest expiry of an entry stored with it; only the recent ones can still hit. */
  private readonly fingerprints: Lru<string, number>;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly flushMs = 100,
  ) {
    this.memory = new Lru(maxEntries);
    this.fingerprints = new Lru(maxEntries * 4);
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
    const live = db.query<{ entry: string; expires_at: number }, { now: number }>("SELECT entry, expires_at FROM prompt_cache WHERE expires_at > $now");
    for (const row of live.all({ now: this.now() })) {
      try {
        const { fingerprint } = JSON.parse(row.entry) as { fingerprint?: unknown };
        if (typeof fingerprint === "string") this.remember(fingerprint, row.expires_at);
      } catch {
        // An unreadable row is dropped the first time its key is looked up.
      }
    }
  }

  /** False when no live entry was stored for this fingerprint: a certain miss. */
  mightHave(fingerprint: string): boolean {
    return (this.fingerprints.get(fingerprint) ?? 0) > this.now();
  }

  private remember(fingerprint: string, expiresAt: number): void {
    this.fingerprints.set(fingerprint, Math.max(expiresAt, this.fingerprints.get(fingerprint) ?? 0));
  }

  get(key: string): CacheEntry | undefined {
    const now = this.now();
    let entry = this.memory.get(key);
    if (entry === undefined) {
      const row = this.select.get({ key });
      if (!row) return undefined;
      try {
        entry = { ...(JSON.parse(row.entry) as Omit<CacheEntry, "expiresAt">), expiresAt: row.expires_at };
      } catch {
        this.remove.run({ key, now });
        return undefined;
      }
      this.memory.set(key, entry);
    }
    if (entry.expiresAt <= now) {
      this.memory.delete(key);
      this.remove.run({ key, now });
      return undefined;
    }
    return entry;
  }

  set(key: string, fingerprint: string, message: Message, frames: CachedFrame[] | undefined): void {
    const now = this.now();
    const entry: CacheEntry = { message, ...(frames ? { frames } : {}), fingerprint, expiresAt: now + this.ttlMs };
    this.memory.set(key, entry);
    this.remember(fingerprint, entry.expiresAt);
    this.pending.set(key, { ...entry, createdAt: now });
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
      // Only the newest `maxEntries` would survive the trim: older pending ones are not written.
      let skip = this.pending.size - this.maxEntries;
      this.db.transaction(() => {
        for (const [key, e] of this.pending) {
          if (skip-- > 0) continue;
          const entry = JSON.stringify({ message: e.message, frames: e.frames, fingerprint: e.fingerprint });
          this.upsert.run({ key, now: e.createdAt, expires: e.expiresAt, entry });
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
