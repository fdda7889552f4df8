import type { SQL } from "bun";

// PostgreSQL schema migrations. Each area of lynkr (sessions and usage, memory, the prompt cache)
// keeps its own numbered list, so areas grow apart without renumbering each other; a version is
// applied once per area. Append; never edit a shipped one.

export interface PgMigration {
  version: number;
  name: string;
  /** One or more statements; they run inside the migration transaction. */
  sql: string;
}

export type PgMigrations = Readonly<Record<string, readonly PgMigration[]>>;

// Any fixed 64-bit number works, as long as every replica uses the same one: it names the lock
// that serialises replicas starting together (ASCII "lynkrmig").
const migrationLock = 0x6c796e6b726d6967n;

/**
 * Applies what is missing of every area in one transaction under a transaction-scoped advisory
 * lock: replicas starting together wait for the first, then find everything applied. DDL is
 * transactional in PostgreSQL, so a failed migration leaves nothing half-made.
 */
export async function migratePostgres(sql: SQL, areas: PgMigrations): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${migrationLock})`;
    await tx`CREATE TABLE IF NOT EXISTS lynkr_migrations (
      area TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL,
      PRIMARY KEY (area, version))`;
    const rows: { area: string; version: number }[] = await tx`SELECT area, version FROM lynkr_migrations`;
    const applied = new Set(rows.map((r) => `${r.area}\u0000${r.version}`));
    for (const [area, list] of Object.entries(areas)) {
      for (const migration of [...list].sort((a, b) => a.version - b.version)) {
        if (applied.has(`${area}\u0000${migration.version}`)) continue;
        await tx.unsafe(migration.sql);
        await tx`INSERT INTO lynkr_migrations (area, version, name, applied_at)
          VALUES (${area}, ${migration.version}, ${migration.name}, ${Date.now()})`;
      }
    }
  });
}
