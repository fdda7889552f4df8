import type { SQL } from "bun";
import { afterAll, beforeAll } from "bun:test";
import { PostgresMemoryStore } from "../../src/memory/postgres-store.ts";
import { SqliteMemoryStore } from "../../src/memory/sqlite-store.ts";
import type { MemoryStore } from "../../src/memory/store.ts";
import { openDatabase } from "../../src/store/db.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { freshDatabase, releasePostgres, sharedPostgres } from "./storage-backends.ts";

// Both memory stores, for tests that must hold on each: SQLite in memory, and a real PostgreSQL
// (the file's shared server, a database of its own migrated as lynkr migrates it) whose memory
// tables are emptied for every store handed out.

export interface MemoryBackend {
  name: "SQLite" | "PostgreSQL";
  /** An empty store. */
  fresh(): Promise<MemoryStore>;
}

/** Call at a test file's top level: registers the PostgreSQL database's start and stop. */
export function memoryBackends(): MemoryBackend[] {
  let sql: SQL | undefined;
  beforeAll(async () => {
    sql = await openPostgres(await freshDatabase(await sharedPostgres()), postgresAreas, { maxConnections: 4 });
  }, 60_000);
  afterAll(async () => {
    await sql?.close();
    await releasePostgres();
  });
  return [
    { name: "SQLite", fresh: async () => new SqliteMemoryStore(openDatabase(":memory:")) },
    {
      name: "PostgreSQL",
      async fresh() {
        if (!sql) throw new Error("PostgreSQL did not start (see beforeAll)");
        await sql.unsafe("TRUNCATE memories, memory_sessions RESTART IDENTITY");
        return new PostgresMemoryStore(sql);
      },
    },
  ];
}
