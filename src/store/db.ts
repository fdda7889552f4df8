import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
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

export function openDatabase(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  // NORMAL is durable across process crashes in WAL mode; only a power cut can lose the last commits.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db);
  return db;
}

function migrate(db: Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const applied = new Set(
    db.query<{ version: number }, []>("SELECT version FROM schema_migrations").all().map((r) => r.version),
  );
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.name,
        Date.now(),
      );
    })();
  }
}

export function isDatabaseReachable(db: Database): boolean {
  try {
    db.query("SELECT 1").get();
    return true;
  } catch {
    return false;
  }
}
