import type { Database } from "bun:sqlite";
import type { SQL } from "bun";
import type { Config } from "../config/schema.ts";
import type { UsageLedger } from "./usage.ts";
import { UsageStore } from "./usage.ts";
import { databasePath, isDatabaseReachable, openDatabase } from "./db.ts";
import { postgresAreas } from "./postgres/areas.ts";
import { openPostgres } from "./postgres/connect.ts";
import { PgSessionReport } from "./postgres/report.ts";
import { pgPruneBefore } from "./postgres/retention.ts";
import { PgSessionStore } from "./postgres/session-store.ts";
import { PgUsageStore } from "./postgres/usage-store.ts";
import { PgLink } from "./postgres/writer.ts";
import { pruneBefore, startRetention } from "./retention.ts";
import { SessionReport, type SessionReader } from "./session-report.ts";
import { SessionStore, type SessionRecorder } from "./sessions.ts";
import { WriteBatch } from "./write-batch.ts";

// Where lynkr keeps its records: the embedded SQLite file (default), or PostgreSQL shared by
// every replica (LYNKR_DATABASE_URL) for sessions, turns and usage; memory and the prompt cache
// build their own stores on the same handle. In PostgreSQL mode the SQLite file is still opened,
// though no request reads or writes it.

export interface Storage {
  readonly kind: "sqlite" | "postgres";
  /** Where the records are, for start-up and errors: the SQLite path, or PostgreSQL's host (never its password). */
  readonly where: string;
  /** The SQLite database: every table without PostgreSQL; with it, open but unused by requests. */
  readonly db: Database;
  readonly dbPath: string;
  /** PostgreSQL, every area's migrations applied; undefined in SQLite mode. */
  readonly postgres: SQL | undefined;
  readonly sessions: SessionRecorder;
  readonly usage: UsageLedger;
  readonly reports: SessionReader;
  /** Prunes by SESSION_RETENTION_DAYS now and every hour. */
  retain(days: number): { stop(): Promise<void> };
  /**
   * For readiness: "ok", "unreachable" (SQLite: nothing can be kept), or "degraded" (PostgreSQL
   * away: the replica answers, its records wait in order and are written when it is back).
   */
  state(): Promise<"ok" | "unreachable" | "degraded">;
  /** Writes what waits (turn records, usage rows), waiting at most `ms` for PostgreSQL. */
  flush(ms: number): Promise<void>;
  /** After flush: closes both databases. */
  close(): Promise<void>;
}

/** The host (and port) of a PostgreSQL URL: what messages may show of it. */
export function postgresHost(url: string): string {
  return `postgres ${new URL(url).host}`;
}

/**
 * LYNKR_DATABASE_URL's PostgreSQL, every area's migrations applied; when it cannot be reached,
 * throws naming its host only (the URL may carry a password), for `lynkr start` and the CLI alike.
 */
export async function openLynkrPostgres(url: string, maxConnections: number): Promise<SQL> {
  try {
    return await openPostgres(url, postgresAreas, { maxConnections });
  } catch (error) {
    const where = postgresHost(url);
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`${where}: ${why.replaceAll(url, where)} (LYNKR_DATABASE_URL)`);
  }
}

/** The embedded SQLite storage, opened synchronously (the default, and every test gateway's). */
export function openSqliteStorage(config: Pick<Config, "SESSION_DB_PATH" | "XDG_DATA_HOME" | "HOME">): Storage {
  const dbPath = databasePath(config);
  const db = openDatabase(dbPath);
  const batch = new WriteBatch(db);
  return {
    kind: "sqlite",
    where: dbPath,
    db,
    dbPath,
    postgres: undefined,
    sessions: new SessionStore(db, batch),
    // Usage rows are what budgets count: written through, not batched.
    usage: new UsageStore(db),
    reports: new SessionReport(db),
    retain: (days) => startRetention((cutoff) => pruneBefore(db, cutoff), days),
    state: async () => (isDatabaseReachable(db) ? "ok" : "unreachable"),
    async flush() {
      batch.flush();
    },
    async close() {
      db.close(false);
    },
  };
}

/**
 * PostgreSQL for sessions, turns and usage (LYNKR_DATABASE_URL), connected and migrated; throws
 * when it cannot be reached, naming its host only.
 */
export async function openPostgresStorage(
  config: Pick<Config, "LYNKR_DATABASE_URL" | "LYNKR_DATABASE_POOL_MAX" | "SESSION_DB_PATH" | "XDG_DATA_HOME" | "HOME">,
): Promise<Storage> {
  const url = config.LYNKR_DATABASE_URL;
  if (url === undefined) throw new Error("openPostgresStorage needs LYNKR_DATABASE_URL");
  const where = postgresHost(url);
  const sql = await openLynkrPostgres(url, config.LYNKR_DATABASE_POOL_MAX);
  const local = openSqliteStorage(config);
  // One link state for both: once a write finds PostgreSQL gone, answers stop waiting for records.
  const link = new PgLink();
  const sessions = new PgSessionStore(sql, link);
  const usage = new PgUsageStore(sql, link);
  return {
    kind: "postgres",
    where,
    db: local.db,
    dbPath: local.dbPath,
    postgres: sql,
    sessions,
    usage,
    reports: new PgSessionReport(sql),
    retain: (days) => startRetention((cutoff) => pgPruneBefore(sql, cutoff), days),
    async state() {
      try {
        await sql`SELECT 1`;
        return "ok";
      } catch {
        return "degraded";
      }
    },
    async flush(ms) {
      await local.flush(ms);
      await Promise.all([usage.flush(ms), sessions.flush(ms)]);
    },
    async close() {
      await sql.close({ timeout: 5 });
      await local.close();
    },
  };
}

/** The storage LYNKR_DATABASE_URL asks for. */
export function openStorage(config: Config): Promise<Storage> {
  return config.LYNKR_DATABASE_URL === undefined ? Promise.resolve(openSqliteStorage(config)) : openPostgresStorage(config);
}
