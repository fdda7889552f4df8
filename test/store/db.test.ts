import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { chmodSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db.ts";
import { migrations } from "../../src/store/migrations.ts";
import { tempDir } from "../helpers/gateway.ts";
import { repoRoot } from "../helpers/lynkr-process.ts";
import { run } from "../helpers/run.ts";

const mode = (path: string) => statSync(path).mode & 0o777;

test("the database, its -wal and -shm are 0600, in a 0700 folder lynkr creates", () => {
  const path = join(tempDir(), "data", "lynkr", "lynkr.db");
  const db = openDatabase(path);
  try {
    db.query("INSERT INTO sessions (id, created_at, updated_at) VALUES ('s', 1, 1)").run();
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file)).toBe(0o600);
    expect(mode(join(path, ".."))).toBe(0o700);
    expect(mode(join(path, "..", ".."))).toBe(0o700);
  } finally {
    db.close();
  }
});

test("a database an older version left readable is tightened on open", () => {
  const dir = tempDir();
  const path = join(dir, "lynkr.db");
  new Database(path, { create: true }).close();
  writeFileSync(`${path}-wal`, "");
  chmodSync(path, 0o644);
  chmodSync(`${path}-wal`, 0o644);
  openDatabase(path).close();
  expect(mode(path)).toBe(0o600);
  // An existing folder (here the test's own, elsewhere /tmp) is not lynkr's to change.
  expect(mode(dir)).toBe(0o700 & mode(dir));
});

test("processes starting together on a fresh database all migrate it, exactly once", async () => {
  const script = `import { openDatabase } from ${JSON.stringify(join(repoRoot, "src/store/db.ts"))}; openDatabase(process.env.LYNKR_TEST_DB ?? "").close();`;
  for (let round = 0; round < 4; round++) {
    const path = join(tempDir(), "lynkr.db");
    const results = await Promise.all(Array.from({ length: 4 }, () => run(["bun", "-e", script], { env: { PATH: process.env.PATH ?? "", LYNKR_TEST_DB: path } })));
    for (const result of results) expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const db = new Database(path);
    expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM schema_migrations").get()?.n).toBe(migrations.length);
    db.close();
  }
});
