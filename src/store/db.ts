import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { lynkrDir } from "../config/lynkr-dir.ts";
import type { Config } from "../config/schema.ts";
import { migrations } from "./migrations.ts";

/** `SESSION_DB_PATH`, else `$XDG_DATA_HOME/lynkr/lynkr.db`, else `~/.lynkr/lynkr.db`. */
export function databasePath(config: Pick<Config, "SESSION_DB_PATH" | "XDG_DATA_HOME" | "HOME">): string {
  if (config.SESSION_DB_PATH) return config.SESSION_DB_PATH;
  if (config.XDG_DATA_HOME) return join(config.XDG_DATA_HOME, "lynkr", "lynkr.db");
  return join(lynkrDir(config.HOME), "lynkr.db");
}

/**
 * Prompts, answers and usage are private: the database is its owner's alone. A folder lynkr
 * creates is 0700 (an existing one, say /tmp, is left as it is); the database is created 0600
 * before SQLite opens it, and SQLite gives its -wal and -shm files the database's own mode. Files
 * an older lynkr left readable are tightened.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

export function openDatabase(path: string): Database {
  if (path !== ":memory:") createPrivately(path);
  const db = new Database(path, { create: true, strict: true });
  // First: another process opening the same fresh database holds its lock for a moment.
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA journal_mode = WAL");
  // NORMAL is durable across process crashes in WAL mode; only a power cut can lose the last commits.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db);
  return db;
}

/**
 * Applies what is missing in one write transaction taken up front (BEGIN IMMEDIATE): two processes
 * starting on a fresh database would otherwise both read "nothing applied" and the second fail
 * on CREATE TABLE. The second waits (busy_timeout), then finds everything applied.
 */
function migrate(db: Database): void {
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    const applied = new Set(
      db.query<{ version: number }, []>("SELECT version FROM schema_migrations").all().map((r) => r.version),
    );
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }
  }).immediate();
}

export function isDatabaseReachable(db: Database): boolean {
  try {
    db.query("SELECT 1").get();
    return true;
  } catch {
    return false;
  }
}
