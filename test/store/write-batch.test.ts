import { expect, test } from "bun:test";
import { configureLogger } from "../../src/observability/logger.ts";
import { openDatabase } from "../../src/store/db.ts";
import { WriteBatch } from "../../src/store/write-batch.ts";

function table() {
  const db = openDatabase(":memory:");
  db.exec("CREATE TABLE t (n INTEGER)");
  const insert = db.query("INSERT INTO t (n) VALUES (?)");
  const count = () => db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM t").get()?.n;
  return { db, insert: (n: number) => () => void insert.run(n), count };
}

test("writes wait for the flush window, then land in one go", async () => {
  const { db, insert, count } = table();
  const batch = new WriteBatch(db, { flushMs: 20, maxPending: 100 });
  for (let i = 0; i < 10; i++) batch.add(insert(i));
  expect(count()).toBe(0);
  await Bun.sleep(60);
  expect(count()).toBe(10);
});

test("a full batch is written at once, and flush() writes what is pending (shutdown)", () => {
  const { db, insert, count } = table();
  const batch = new WriteBatch(db, { flushMs: 60_000, maxPending: 3 });
  for (let i = 0; i < 4; i++) batch.add(insert(i));
  expect(count()).toBe(3);
  batch.flush();
  expect(count()).toBe(4);
});

test("a write that fails costs only itself", () => {
  configureLogger("silent", "json");
  const { db, insert, count } = table();
  const batch = new WriteBatch(db, { flushMs: 60_000, maxPending: 100 });
  batch.add(insert(1));
  batch.add(() => {
    throw new Error("constraint failed");
  });
  batch.add(insert(2));
  batch.flush();
  expect(count()).toBe(2);
});
