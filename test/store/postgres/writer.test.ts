import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { configureLogger } from "../../../src/observability/logger.ts";
import { isTransient, PgWriter } from "../../../src/store/postgres/writer.ts";
import { freePort } from "../../helpers/ports.ts";
import type { PostgresServer } from "../../helpers/postgres-server.ts";
import { freshDatabase, releasePostgres, sharedPostgres } from "../../helpers/storage-backends.ts";

// The PostgreSQL writer: batches, a refused record costing only itself, and a lost connection
// told apart from a refusal.

let pg: PostgresServer;
let sql: SQL;
beforeAll(async () => {
  configureLogger("silent", "json");
  pg = await sharedPostgres();
  sql = new SQL(await freshDatabase(pg), { max: 2 });
  await sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`;
}, 60_000);
afterAll(async () => {
  await sql.close();
  await releasePostgres();
});

test("records added together land together; one the database refuses costs only itself", async () => {
  const writer = new PgWriter<{ id: number; body: string | null }>(sql, "notes", async (tx, items) => {
    for (const item of items) await tx`INSERT INTO notes (id, body) VALUES (${item.id}, ${item.body})`;
  });
  const results = await Promise.all([
    writer.add({ id: 1, body: "one" }),
    writer.add({ id: 2, body: null }),
    writer.add({ id: 3, body: "three" }),
  ]);
  expect(results).toEqual([true, false, true]);
  const rows: { id: number }[] = await sql`SELECT id FROM notes ORDER BY id`;
  expect(rows.map((r) => r.id)).toEqual([1, 3]);
  expect(await writer.flush(1_000)).toBe(true);
});

test("a lost connection is worth retrying; a refused statement is not", async () => {
  const refused = await sql`SELECT no_such_column FROM notes`.catch((error: unknown) => error);
  expect(isTransient(refused)).toBe(false);
  const gone = new SQL(`postgres://postgres@127.0.0.1:${freePort()}/postgres`, { max: 1, connectionTimeout: 2 });
  const lost = await gone`SELECT 1`.catch((error: unknown) => error);
  await gone.close();
  expect(isTransient(lost)).toBe(true);
  expect(isTransient({ errno: "57P01" })).toBe(true);
  expect(isTransient({ errno: "40P01" })).toBe(true);
  expect(isTransient({ errno: "23505" })).toBe(false);
  expect(isTransient(new Error("anything else"))).toBe(false);
});
