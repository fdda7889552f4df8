import { SQL } from "bun";
import { afterAll, beforeAll } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { tempDir } from "./gateway.ts";
import { startPostgresServer, type PostgresServer } from "./postgres-server.ts";

// The storage tests run once per backend: the embedded SQLite file, and a real PostgreSQL
// (Debian's package, started by the test). Each PostgreSQL user of it gets a database of its own.

export type BackendName = "sqlite" | "postgres";
export const backends: BackendName[] = ["sqlite", "postgres"];

let server: Promise<PostgresServer> | undefined;
let users = 0;
let made = 0;

/** The file's shared PostgreSQL server; `releasePostgres()` once per call when done. */
export function sharedPostgres(): Promise<PostgresServer> {
  users += 1;
  server ??= startPostgresServer();
  return server;
}

export async function releasePostgres(): Promise<void> {
  users -= 1;
  if (users > 0 || !server) return;
  const closing = server;
  server = undefined;
  await (await closing).close();
}

/** A fresh, empty database on the shared server: its URL. */
export async function freshDatabase(pg: PostgresServer): Promise<string> {
  const name = `lynkr_${process.pid}_${++made}`;
  const admin = new SQL(pg.url, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  return pg.url.replace(/\/[^/]*$/, `/${name}`);
}

/** Where a gateway keeps its records: its SQLite database, or PostgreSQL when it has one. */
export interface RecordsOf {
  db: Database | undefined;
  postgres: SQL | undefined;
}

// PostgreSQL answers BIGINT as text and booleans as booleans; SQLite has integers for both.
const numericColumns = new Set([
  "id",
  "created_at",
  "updated_at",
  "requests",
  "input_tokens",
  "output_tokens",
  "cache_read_input_tokens",
  "cache_creation_input_tokens",
  "n",
]);

function asSqlite(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === "boolean") out[key] = value ? 1 : 0;
    else if (typeof value === "string" && numericColumns.has(key) && /^-?\d+(\.\d+)?$/.test(value)) out[key] = Number(value);
    else out[key] = value;
  }
  return out;
}

/** Runs one literal query (no parameters: test values only) on whichever database holds the records. */
export async function rowsOf<T>(records: RecordsOf, text: string): Promise<T[]> {
  if (records.postgres) {
    const rows: Record<string, unknown>[] = await records.postgres.unsafe(text);
    return rows.map(asSqlite) as T[];
  }
  if (!records.db) throw new Error("rowsOf: no database");
  return records.db.query<T, []>(text).all();
}

/**
 * For a describe.each(backends) block: shares the PostgreSQL server for the block's postgres run,
 * and gives each test the environment of records of its own: a fresh SQLite file, and on
 * PostgreSQL a fresh database too (the SQLite file still holds memory and the prompt cache).
 */
export function recordsFor(backend: BackendName): () => Promise<Record<string, string>> {
  let pg: PostgresServer | undefined;
  beforeAll(async () => {
    if (backend === "postgres") pg = await sharedPostgres();
  }, 60_000);
  afterAll(async () => {
    if (backend === "postgres") await releasePostgres();
  });
  return async () => {
    const env: Record<string, string> = { SESSION_DB_PATH: join(tempDir(), "lynkr.db") };
    if (backend === "postgres") {
      if (!pg) throw new Error("recordsFor(postgres): the server did not start");
      env.LYNKR_DATABASE_URL = await freshDatabase(pg);
    }
    return env;
  };
}

/** Rows of the records `env` names, read after the gateway writing them stopped. */
export async function storedRows<T>(env: Record<string, string>, text: string): Promise<T[]> {
  const url = env.LYNKR_DATABASE_URL;
  if (url) {
    const sql = new SQL(url, { max: 1 });
    try {
      return await rowsOf<T>({ db: undefined, postgres: sql }, text);
    } finally {
      await sql.close();
    }
  }
  const db = new Database(env.SESSION_DB_PATH ?? "", { readonly: true });
  try {
    return await rowsOf<T>({ db, postgres: undefined }, text);
  } finally {
    db.close();
  }
}
