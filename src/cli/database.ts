import type { SQL } from "bun";
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { databasePath, openDatabase } from "../store/db.ts";
import { PgSessionReport } from "../store/postgres/report.ts";
import { SessionReport, type SessionReader } from "../store/session-report.ts";
import { openLynkrPostgres } from "../store/storage.ts";

// The reports read the database lynkr writes: PostgreSQL with LYNKR_DATABASE_URL, else the SQLite
// file (WAL: while a gateway runs too), never creating one where there is none. Opening either
// applies pending migrations, so an older database reads like a new one.

export interface ReportDatabase {
  reports: SessionReader;
  close(): Promise<void>;
}

/** LYNKR_DATABASE_URL's PostgreSQL, migrated; exits naming the host (never the password) when it cannot. */
export async function connectPostgres(url: string, command: string): Promise<SQL> {
  try {
    return await openLynkrPostgres(url, 2);
  } catch (error) {
    process.stderr.write(`lynkr ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

/**
 * The reports of `config`'s database; exits naming the problem when there is none to read (a
 * missing SQLite file is created only when `create` says so).
 */
export async function reportsOf(config: Config, command: string, create = false): Promise<ReportDatabase> {
  const url = config.LYNKR_DATABASE_URL;
  if (url !== undefined) {
    const sql = await connectPostgres(url, command);
    return { reports: new PgSessionReport(sql), close: () => sql.close({ timeout: 5 }) };
  }
  const path = databasePath(config);
  if (!create && !existsSync(path)) {
    process.stderr.write(`lynkr ${command}: no database at ${path} yet (lynkr start creates it; SESSION_DB_PATH names another)\n`);
    process.exit(1);
  }
  const db = openDatabase(path);
  return { reports: new SessionReport(db), close: async () => db.close(false) };
}

/** `lynkr sessions` and `lynkr usage`: the configuration from the environment (and --env-file). */
export function openReportDatabase(envFile: string | undefined, command: string): Promise<ReportDatabase> {
  let config: Config;
  try {
    config = loadConfig({ env: process.env, envFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`lynkr ${command}: ${error.message}\n`);
    process.exit(2);
  }
  return reportsOf(config, command);
}
