import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "../config/load.ts";
import { databasePath, openDatabase } from "../store/db.ts";

// The reports read the database lynkr writes (WAL: while a gateway runs too), never creating one
// where there is none. Opening it applies pending migrations, so an older file reads like a new one.

export function openReportDatabase(envFile: string | undefined, command: string): Database {
  let path: string;
  try {
    path = databasePath(loadConfig({ env: process.env, envFile }));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`lynkr ${command}: ${error.message}\n`);
    process.exit(2);
  }
  if (!existsSync(path)) {
    process.stderr.write(`lynkr ${command}: no database at ${path} yet (lynkr start creates it; SESSION_DB_PATH names another)\n`);
    process.exit(1);
  }
  return openDatabase(path);
}
