import type { SQL } from "bun";
import { entryText, parseEntry, type CacheEntry, type Stored } from "./entry.ts";
import type { PromptKey } from "./key.ts";
import type { DurableEntries } from "./prompt-cache.ts";

// The prompt cache's durable tier in PostgreSQL (LYNKR_DATABASE_URL), shared by every replica.
// Looked up by fingerprint (indexed), so a miss costs one indexed query and no SHA-256; the key
// then picks the entry among the (rare) requests that share a fingerprint. Its table is the
// `cache` area of the PostgreSQL migrations (store/postgres/areas.ts).

/** A lookup slower than this is a miss: the upstream answers instead of the request waiting on a struggling database. */
const defaultLookupMs = 1_000;
/** After a failed or late lookup, lookups are misses at once for this long: a database away costs no request a wait. */
const restMs = 5_000;

export class PostgresEntries implements DurableEntries {
  private restUntil = 0;

  constructor(
    private readonly sql: SQL,
    private readonly lookupMs = defaultLookupMs,
    private readonly now: () => number = Date.now,
  ) {}

  async find(id: PromptKey, now: number): Promise<CacheEntry | undefined> {
    if (this.now() < this.restUntil) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.lookupMs);
    });
    try {
      const rows = await Promise.race([
        this.sql<{ key: string; entry: string; expires_at: string | number }[]>`
          SELECT key, entry, expires_at FROM prompt_cache
          WHERE fingerprint = ${String(id.fingerprint())}::bigint AND expires_at > ${String(now)}::bigint`,
        late,
      ]);
      if (rows === undefined) {
        this.restUntil = this.now() + restMs;
        return undefined;
      }
      if (rows.length === 0) return undefined;
      const key = id.key();
      const row = rows.find((r) => r.key === key);
      return row ? parseEntry(row.entry, Number(row.expires_at)) : undefined;
    } catch (error) {
      this.restUntil = this.now() + restMs;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async write(entries: readonly Stored[], now: number, max: number): Promise<void> {
    // Each upsert commits on its own, and the trim after them: one transaction across replicas'
    // overlapping trims could deadlock, and a cache loses nothing that matters by a partial batch.
    for (const e of entries) {
      await this.sql`
        INSERT INTO prompt_cache (key, fingerprint, created_at, expires_at, entry)
        VALUES (${e.id.key()}, ${String(e.fingerprint)}::bigint, ${String(e.createdAt)}::bigint, ${String(e.expiresAt)}::bigint, ${entryText(e)})
        ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
          expires_at = EXCLUDED.expires_at, entry = EXCLUDED.entry`;
    }
    await this.sql`
      DELETE FROM prompt_cache WHERE expires_at <= ${String(now)}::bigint
        OR key IN (SELECT key FROM prompt_cache ORDER BY created_at DESC OFFSET ${max})`;
  }
}
