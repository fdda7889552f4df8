import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import type { MessageParam } from "../../src/anthropic/schema.ts";
import { openDatabase } from "../../src/store/db.ts";
import { SessionStore, failedTurnMaxBytes, type TurnRecord } from "../../src/store/sessions.ts";
import { openStorage } from "../../src/store/storage.ts";
import { launchTestGateway, tempDir } from "../helpers/gateway.ts";
import { backends, recordsFor, rowsOf, storedRows } from "../helpers/storage-backends.ts";

const dayMs = 86_400_000;

function turn(sessionId: string, messages: MessageParam[], status = 200): TurnRecord {
  return {
    sessionId,
    requestId: `req_${sessionId}_${status}`,
    provider: "anthropic",
    model: "m",
    requestedModel: "m",
    stream: true,
    status,
    latencyMs: 1,
    firstByteMs: undefined,
    messages,
    response: undefined,
    error: status === 200 ? undefined : { type: "api_error", message: "failed" },
  };
}

async function seed(env: Record<string, string>): Promise<void> {
  const home = tempDir();
  const storage = await openStorage(loadConfig({ env: { HOME: home, ...env }, cwd: home }));
  const old = Date.now() - 40 * dayMs;
  for (const id of ["old", "recent"]) {
    storage.sessions.record(turn(id, [{ role: "user", content: `hello from ${id}` }]));
    await storage.usage.record(
      {
        requestId: `req_${id}`,
        sessionId: id,
        client: "c",
        provider: "anthropic",
        model: "m",
        usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, estimated: false },
        costUsd: 0.01,
        cached: false,
        savedUsd: undefined,
      },
      id === "old" ? old : Date.now(),
    );
  }
  await storage.flush(10_000);
  await rowsOf(storage, `UPDATE sessions SET updated_at = ${old} WHERE id = 'old'`);
  await storage.close();
}

/** Polls until `check` holds, for at most 10 s (PostgreSQL prunes in the background at start). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 10_000;
  while (!(await check()) && Date.now() < until) await Bun.sleep(20);
}

describe.each(backends)("on %s", (backend) => {
  const records = recordsFor(backend);

  test("the gateway prunes sessions, turns and usage older than SESSION_RETENTION_DAYS when it starts", async () => {
    const env = await records();
    await seed(env);
    const gateway = await launchTestGateway({ ...env, SESSION_RETENTION_DAYS: "30" });
    const ids = async (sql: string) => (await storedRows<{ v: string }>(env, sql)).map((r) => r.v);
    await eventually(async () => (await ids("SELECT id AS v FROM sessions ORDER BY id")).length === 1);
    await gateway.shutdown();
    expect(await ids("SELECT id AS v FROM sessions ORDER BY id")).toEqual(["recent"]);
    expect(await ids("SELECT DISTINCT session_id AS v FROM turns")).toEqual(["recent"]);
    expect(await ids("SELECT DISTINCT session_id AS v FROM threads")).toEqual(["recent"]);
    expect(await ids("SELECT session_id AS v FROM usage")).toEqual(["recent"]);
    expect(await ids("SELECT subject AS v FROM usage_totals WHERE scope = 'session'")).toEqual(["recent"]);
    expect(await storedRows(env, "SELECT count(*) AS n FROM usage_totals WHERE scope = 'day'")).toEqual([{ n: 1 }]);
  });

  test("SESSION_RETENTION_DAYS=0 keeps everything", async () => {
    const env = await records();
    await seed(env);
    const gateway = await launchTestGateway({ ...env, SESSION_RETENTION_DAYS: "0" });
    await gateway.shutdown();
    expect(await storedRows(env, "SELECT count(*) AS n FROM sessions")).toEqual([{ n: 2 }]);
  });
});

test("a failed turn stores none of a huge request, and the next answered turn still stores it", () => {
  const db = openDatabase(":memory:");
  const sessions = new SessionStore(db);
  const huge: MessageParam[] = [{ role: "user", content: "x".repeat(failedTurnMaxBytes * 16) }];
  sessions.record(turn("s", huge, 400));
  const failed = db.query<{ new_messages: string; status: number }, []>("SELECT new_messages, status FROM turns").get();
  expect(failed).toEqual({ new_messages: "[]", status: 400 });
  sessions.record(turn("s", huge, 200));
  const answered = db.query<{ n: number }, []>("SELECT length(new_messages) AS n FROM turns WHERE status = 200").get();
  expect(answered?.n).toBeGreaterThan(failedTurnMaxBytes * 16);
  // A small failed turn keeps what it sent.
  sessions.record(turn("t", [{ role: "user", content: "small" }], 500));
  expect(db.query<{ new_messages: string }, []>("SELECT new_messages FROM turns WHERE session_id = 't'").get()?.new_messages).toContain("small");
  db.close();
});
