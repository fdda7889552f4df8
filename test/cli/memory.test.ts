import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PostgresMemoryStore } from "../../src/memory/postgres-store.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { startPostgresServer } from "../helpers/postgres-server.ts";

// `lynkr memory` as a user runs it: add (to this folder's project, a named one, or every
// project), list, search, export, forget, import, and clear errors for bad arguments.

test("add, list, search, export, forget and import from the command line", async () => {
  const dir = tempDir("lynkr-memory-cli-");
  const repo = join(dir, "repo");
  mkdirSync(join(repo, ".git"), { recursive: true });
  mkdirSync(join(repo, "web"));
  const env = { SESSION_DB_PATH: join(dir, "lynkr.db") };
  const cli = (...args: string[]) => runCli(["memory", ...args], env, join(repo, "web"));

  // From a subfolder, the project is the repository's root.
  expect((await cli("add", "We always use pnpm, never npm")).stdout).toContain(`(project:${repo})`);
  expect((await cli("add", "Answer in British English", "--global")).code).toBe(0);
  const listed = await cli("list", "--project", repo, "--json");
  expect((JSON.parse(listed.stdout) as { text: string }[]).map((m) => m.text)).toEqual(["We always use pnpm, never npm"]);
  expect((await cli("search", "npm install", "--project", ".")).stdout).toContain("We always use pnpm, never npm");

  const exported = await cli("export");
  expect(exported.stdout.trim().split("\n")).toHaveLength(2);
  const [first] = JSON.parse(listed.stdout) as { id: number }[];
  expect((await cli("forget", String(first?.id))).stdout).toBe(`forgot memory ${first?.id}\n`);
  expect((await cli("list", "--project", repo)).stdout).toBe("no memories\n");
  writeFileSync(join(dir, "memories.jsonl"), exported.stdout);
  expect((await cli("import", join(dir, "memories.jsonl"))).stdout).toBe("imported 2 memories\n");
  expect((await cli("list")).stdout).toContain("We always use pnpm, never npm");
});

test("bad arguments name the problem and exit 2", async () => {
  const dir = tempDir("lynkr-memory-cli-");
  const env = { SESSION_DB_PATH: join(dir, "lynkr.db") };
  const bad = [
    [["forget", "abc"], "expected a memory id"],
    [["forget", "99"], "no memory with id 99"],
    [["add", "x", "--global", "--project", "/tmp"], "either --project or --global"],
  ] as const;
  for (const [args, message] of bad) {
    const run = await runCli(["memory", ...args], env, dir);
    expect({ args, code: run.code }).toEqual({ args, code: 2 });
    expect(run.stderr).toContain(message);
  }
  writeFileSync(join(dir, "bad.jsonl"), '{"scope":"nowhere","text":"x"}\n');
  const imported = await runCli(["memory", "import", join(dir, "bad.jsonl")], env, dir);
  expect(imported.code).toBe(2);
  expect(imported.stderr).toContain("line 1");
});

test("with LYNKR_DATABASE_URL the command line works on the memories in PostgreSQL; an export from SQLite moves them there", async () => {
  const pg = await startPostgresServer();
  try {
    const dir = tempDir("lynkr-memory-cli-");
    const sqlite = { SESSION_DB_PATH: join(dir, "lynkr.db") };
    const postgres = { ...sqlite, LYNKR_DATABASE_URL: pg.url };
    expect((await runCli(["memory", "add", "Deploys go through Argo CD", "--project", "/work/shop"], sqlite, dir)).code).toBe(0);
    expect((await runCli(["memory", "add", "Answer in British English", "--global"], postgres, dir)).code).toBe(0);
    // Each store has its own: the SQLite file is not read once PostgreSQL is named.
    expect((await runCli(["memory", "list"], postgres, dir)).stdout).not.toContain("Argo CD");
    const exported = await runCli(["memory", "export"], sqlite, dir);
    writeFileSync(join(dir, "memories.jsonl"), exported.stdout);
    expect((await runCli(["memory", "import", join(dir, "memories.jsonl")], postgres, dir)).stdout).toBe("imported 1 memories\n");
    // What the gateway's store holds, read directly.
    const sql = await openPostgres(pg.url, postgresAreas, { maxConnections: 1 });
    const kept = await new PostgresMemoryStore(sql).list();
    await sql.close();
    expect(kept.map((m) => [m.scope, m.text])).toEqual([
      ["global", "Answer in British English"],
      ["project:/work/shop", "Deploys go through Argo CD"],
    ]);
    expect((await runCli(["memory", "search", "deploy", "--project", "/work/shop"], postgres, dir)).stdout).toContain("Deploys go through Argo CD");
    const unreachable = await runCli(["memory", "list"], { ...sqlite, LYNKR_DATABASE_URL: "postgres://lynkr:secret@127.0.0.1:1/lynkr" }, dir);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("postgres 127.0.0.1:1");
    expect(unreachable.stderr).not.toContain("secret");
  } finally {
    await pg.close();
  }
}, 60_000);
