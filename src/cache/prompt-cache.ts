import type { Message } from "../anthropic/schema.ts";
import { logger } from "../observability/logger.ts";
import type { CacheEntry, CachedFrame, Stored } from "./entry.ts";
import type { PromptKey } from "./key.ts";
import { Lru } from "./lru.ts";

export type { CacheEntry, CachedFrame } from "./entry.ts";

// Answers to repeated prompts, in up to three tiers: this process's memory (LRU), Redis's hot
// entries shared by replicas (LYNKR_REDIS_URL), and a durable store behind them that survives a
// restart (SQLite, or PostgreSQL shared by replicas with LYNKR_DATABASE_URL). A lookup that
// memory cannot answer asks one tier: Redis while it answers (it holds every entry of its TTL,
// or a marker sending a too-large one to the durable store), else the durable store. A lost
// tier never fails a request: its lookup is a miss, its write is dropped.
//
// Cost is kept off the common path: memory is indexed by the request's fingerprint (CRC-32 of
// its bytes, see key.ts), so a new turn is known to miss without SHA-256, which runs only to
// confirm a fingerprint match and for an answer written out (~35 µs on a Claude Code request).
// Entries reach the durable store in batches (one transaction per `flushMs`, newest
// `maxEntries` only, so of a burst the rest are never hashed): a commit per answer cost more
// than the rest of the cache together. A crash only loses what a cache may lose.

/** Where entries outlive this process: SQLite (sqlite-entries.ts) or PostgreSQL (postgres-entries.ts). */
export interface DurableEntries {
  /** A live entry stored under the request's key; undefined: a miss. */
  find(id: PromptKey, now: number): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  /** Writes `entries` (oldest first) and keeps the newest `max`, none expired. */
  write(entries: readonly Stored[], now: number, max: number): void | Promise<void>;
}

/** Entries every replica reads at once (redis-entries.ts). */
export interface HotEntries {
  /** Whether it answers now; while not, lookups go to the durable store. */
  readonly up: boolean;
  /** The entry, a miss, or `durable`: it is there but too large for this tier. */
  find(id: PromptKey, now: number): Promise<CacheEntry | "durable" | undefined>;
  /** Stores the entry for its remaining lifetime, in the background. */
  put(entry: Stored): void;
}

/** Only finished answers that call no tools: a tool call's result belongs to its moment. */
export function isCacheable(message: Message): boolean {
  if (message.stop_reason !== "end_turn" && message.stop_reason !== "stop_sequence" && message.stop_reason !== "max_tokens") return false;
  return !message.content.some((block) => block.type === "tool_use" || block.type === "server_tool_use");
}

export class PromptCache {
  /** Fingerprint → entry, for answers this process stored or read. */
  private readonly memory: Lru<number, Stored>;
  /** Answers not yet in the durable store: only the newest `maxEntries` would survive its trim anyway. */
  private readonly pending: Lru<number, Stored>;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly tiers: { durable: DurableEntries; hot?: HotEntries },
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly flushMs = 1000,
  ) {
    this.memory = new Lru(maxEntries);
    this.pending = new Lru(maxEntries);
  }

  /** Synchronous when memory (or SQLite) answers; a promise when Redis or PostgreSQL is asked. Never rejects. */
  get(id: PromptKey): CacheEntry | undefined | Promise<CacheEntry | undefined> {
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
    const { hot, durable } = this.tiers;
    let found: CacheEntry | undefined | Promise<CacheEntry | undefined>;
    try {
      found = hot?.up ? hot.find(id, now).then((entry) => (entry === "durable" ? durable.find(id, now) : entry)) : durable.find(id, now);
    } catch (error) {
      return this.lost(error);
    }
    if (!(found instanceof Promise)) return this.remember(id, found, now);
    return found.then(
      (entry) => this.remember(id, entry, now),
      (error: unknown) => this.lost(error),
    );
  }

  set(id: PromptKey, message: Message, frames: CachedFrame[] | undefined): void {
    const now = this.now();
    const fingerprint = id.fingerprint();
    const stored: Stored = { message, frames, fingerprint, expiresAt: now + this.ttlMs, id, createdAt: now };
    this.memory.set(fingerprint, stored);
    this.pending.set(fingerprint, stored);
    if (this.tiers.hot?.up) this.tiers.hot.put(stored);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes pending entries to the durable store and trims it to the newest `maxEntries`. */
  flush(): void | Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    // The in-memory entries still serve; losing the durable copy only costs misses later.
    const failed = (error: unknown) => logger.warn("could not store prompt cache entries", { error: String(error) });
    try {
      const written = this.tiers.durable.write(batch, this.now(), this.maxEntries);
      if (written instanceof Promise) return written.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  private remember(id: PromptKey, entry: CacheEntry | undefined, now: number): CacheEntry | undefined {
    if (entry === undefined || entry.expiresAt <= now) return undefined;
    this.memory.set(entry.fingerprint, { ...entry, id, createdAt: now });
    return entry;
  }

  private lost(error: unknown): undefined {
    logger.debug("prompt cache lookup failed; answering from the upstream", { error: String(error) });
    return undefined;
  }
}
