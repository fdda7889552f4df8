import type { Database } from "bun:sqlite";
import type { Message } from "../anthropic/schema.ts";
import { logger } from "../observability/logger.ts";
import { Lru } from "./lru.ts";

// Answers to repeated prompts, kept in memory (LRU) with SQLite behind it so a restart keeps
// them. An entry holds the Message and, when the answer was streamed, its events exactly as
// they were sent, so a streamed hit is byte-identical to the original stream.

export interface CachedFrame {
  type: string;
  /** The `data:` text as it went to the client. */
  data: string;
}

export interface CacheEntry {
  message: Message;
  frames?: CachedFrame[];
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

  constructor(
    private readonly db: Database,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    this.memory = new Lru(maxEntries);
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

  set(key: string, message: Message, frames: CachedFrame[] | undefined): void {
    const now = this.now();
    const entry: CacheEntry = { message, ...(frames ? { frames } : {}), expiresAt: now + this.ttlMs };
    this.memory.set(key, entry);
    try {
      this.upsert.run({ key, now, expires: entry.expiresAt, entry: JSON.stringify({ message, frames }) });
      this.trim.run({ now, max: this.maxEntries });
    } catch (error) {
      // The in-memory entry still serves; losing the disk copy only costs a miss after a restart.
      logger.warn("could not store a prompt cache entry", { error: String(error) });
    }
  }
}
