import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SQL } from "bun";
import { openPostgres } from "../../../src/store/postgres/connect.ts";
import type { PgMigrations } from "../../../src/store/postgres/migrate.ts";
import { startPostgresServer, type PostgresServer } from "../../helpers/postgres-server.ts";

let pg: PostgresServer;
beforeAll(async () => {
  pg = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await pg?.close();
});

const areas: PgMigrations = {
  alpha: [
    { version: 1, name: "items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY); INSERT INTO items VALUES (1)" },
    { version: 2, name: "labels", sql: "ALTER TABLE items ADD COLUMN label TEXT" },
  ],
  beta: [{ version: 1, name: "notes", sql: "CREATE TABLE notes (body TEXT)" }],
};

test("replicas starting together apply each area's migrations once, under the advisory lock", async () => {
  const opened: SQL[] = await Promise.all(Array.from({ length: 5 }, () => openPostgres(pg.url, areas, { maxConnections: 2 })));
  const [sql] = opened as [SQL];
  const applied: { area: string; version: number }[] = await sql`SELECT area, version FROM lynkr_migrations ORDER BY area, version`;
  expect(applied.map((r) => `${r.area}:${r.version}`)).toEqual(["alpha:1", "alpha:2", "beta:1"]);
  const [row] = await sql`SELECT count(*)::int AS n FROM items`;
  expect(row.n).toBe(1);
  await Promise.all(opened.map((s) => s.close()));
}, 60_000);

test("an area grows on its own; a failing migration leaves nothing half-made", async () => {
  const grown: PgMigrations = {
    ...areas,
    beta: [...(areas.beta ?? []), { version: 2, name: "bad", sql: "CREATE TABLE half (x INT); SELECT no_such_function()" }],
  };
  await expect(openPostgres(pg.url, grown)).rejects.toThrow(/no_such_function/);
  const sql = await openPostgres(pg.url, areas);
  const [half] = await sql`SELECT to_regclass('half') AS t`;
  expect(half.t).toBeNull();
  const applied: { n: number }[] = await sql`SELECT count(*)::int AS n FROM lynkr_migrations`;
  expect(applied[0]?.n).toBe(3);
  await sql.close();
}, 60_000);
