import type { Database } from "bun:sqlite";
import { parseEntry, entryText, type CacheEntry, type Stored } from "./entry.ts";
import type { PromptKey } from "./key.ts";
import { Lru } from "./lru.ts";
import type { DurableEntries } from "./prompt-cache.ts";

// The prompt cache's durable tier in the embedded SQLite database (one process). Which
// fingerprints it holds is known in memory, read once at start-up and kept as entries are
// written: a lookup the disk cannot answer never reaches it.

export class SqliteEntries implements DurableEntries {
  private readonly select;
  private readonly upsert;
  private readonly remove;
  private readonly trim;
  /** Fingerprint → latest expiry of an entry on disk with it; only those can still hit there. */
  private readonly onDisk: Lru<number, number>;

  constructor(
    private readonly db: Database,
    maxEntries: number,
    now: number = Date.now(),
  ) {
    this.onDisk = new Lru(maxEntries * 4);
    this.select = db.query<{ entry: string; expires_at: number }, { key: string }>("SELECT entry, expires_at FROM prompt_cache WHERE key = $key");
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
    for (const row of live.all({ now })) this.onDisk.set(row.fingerprint, row.expires_at);
  }

  find(id: PromptKey, now: number): CacheEntry | undefined {
    // Only an entry written earlier (before a restart, or since forgotten by memory) can answer.
    if ((this.onDisk.get(id.fingerprint()) ?? 0) <= now) return undefined;
    const key = id.key();
    const row = this.select.get({ key });
    if (!row) return undefined;
    const entry = row.expires_at > now ? parseEntry(row.entry, row.expires_at) : undefined;
    if (entry === undefined) this.remove.run({ key, now });
    return entry;
  }

  write(entries: readonly Stored[], now: number, max: number): void {
    this.db.transaction(() => {
      for (const e of entries) {
        this.upsert.run({ key: e.id.key(), now: e.createdAt, expires: e.expiresAt, entry: entryText(e) });
        this.onDisk.set(e.fingerprint, Math.max(e.expiresAt, this.onDisk.get(e.fingerprint) ?? 0));
      }
      this.trim.run({ now, max });
    })();
  }
}
