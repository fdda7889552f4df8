import type { SQL } from "bun";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PostgresMemoryStore } from "../../src/memory/postgres-store.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { startPostgresServer, type PostgresServer } from "../helpers/postgres-server.ts";

// What only PostgreSQL has to get right: several replicas (here: separate connection pools)
// writing the same memories at once, and its own full-text search reading paths and operators.

let pg: PostgresServer;
let pools: SQL[] = [];

beforeAll(async () => {
  pg = await startPostgresServer();
  pools = await Promise.all([0, 1, 2].map(() => openPostgres(pg.url, postgresAreas, { maxConnections: 4 })));
}, 60_000);

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  await pg?.close();
});

const scope = "project:/work/shop";

test("the memory area is migrated once, whichever replica came first", async () => {
  const [sql] = pools as [SQL];
  const rows: { version: number; name: string }[] = await sql`SELECT version, name FROM lynkr_migrations WHERE area = 'memory' ORDER BY version`;
  expect(rows.map((r) => r.version)).toEqual(postgresAreas.memory?.map((m) => m.version) ?? []);
});

test("three replicas learning the same statement at once keep one memory, every mention counted", async () => {
  const stores = pools.map((pool) => new PostgresMemoryStore(pool));
  const outcomes = await Promise.all(
    Array.from({ length: 12 }, (_, i) => stores[i % 3]?.learn(scope, "Prices are stored as integer cents, never as floats", "user", { now: 1000 + i })),
  );
  expect(outcomes.filter((o) => o?.kind === "stored")).toHaveLength(1);
  expect(outcomes.filter((o) => o?.kind === "merged")).toHaveLength(11);
  const kept = await (stores[0] as PostgresMemoryStore).list(scope);
  expect(kept.map((m) => [m.text, m.mentions])).toEqual([["Prices are stored as integer cents, never as floats", 12]]);
});

test("search reads paths word by word, and no query text acts as an operator", async () => {
  const store = new PostgresMemoryStore(pools[0] as SQL);
  await store.learn(scope, "Don't touch the generated files in packages/sdk/src/gen; run `pnpm gen` instead", "manual", { force: true });
  await store.learn(scope, "Tests run with `node test/run.js`", "manual", { force: true });
  const found = async (words: string[]) => (await store.matching([scope], words, 10)).map((r) => r.memory.text);
  expect(await found(["sdk"])).toEqual(["Don't touch the generated files in packages/sdk/src/gen; run `pnpm gen` instead"]);
  expect(await found(["packages/sdk/src/gen"])).toEqual(["Don't touch the generated files in packages/sdk/src/gen; run `pnpm gen` instead"]);
  expect(await found(["test/run.js"])).toEqual(["Tests run with `node test/run.js`"]);
  for (const hostile of ["!", "&", "|", "'", "a:*", "<->", "(", "\\", "the"]) expect(await found([hostile])).toEqual([]);
  // Words, not operators: "!gen" is not "without gen".
  expect(await found(["sdk & !gen"])).toEqual(["Don't touch the generated files in packages/sdk/src/gen; run `pnpm gen` instead"]);
  expect(await store.matching([], ["sdk"], 10)).toEqual([]);
  expect(await store.matching(["project:/work/other"], ["sdk"], 10)).toEqual([]);
});
