import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import type { MessageParam } from "../../src/anthropic/schema.ts";
import { openDatabase } from "../../src/store/db.ts";
import { SessionStore, failedTurnMaxBytes, type TurnRecord } from "../../src/store/sessions.ts";
import { UsageStore } from "../../src/usage/store.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";

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

function seed(path: string): void {
  const db = openDatabase(path);
  const sessions = new SessionStore(db);
  const usage = new UsageStore(db);
  const old = Date.now() - 40 * dayMs;
  for (const id of ["old", "recent"]) {
    sessions.record(turn(id, [{ role: "user", content: `hello from ${id}` }]));
    usage.record(
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
  db.query("UPDATE sessions SET updated_at = ? WHERE id = 'old'").run(old);
  db.close();
}

test("the gateway prunes sessions, turns and usage older than SESSION_RETENTION_DAYS when it starts", async () => {
  const dbPath = join(tempDir(), "lynkr.db");
  seed(dbPath);
  const gateway = startTestGateway({ SESSION_DB_PATH: dbPath, SESSION_RETENTION_DAYS: "30" });
  await gateway.shutdown();
  const db = new Database(dbPath, { readonly: true });
  try {
    const ids = (sql: string) => db.query<{ v: string }, []>(sql).all().map((r) => r.v);
    expect(ids("SELECT id AS v FROM sessions ORDER BY id")).toEqual(["recent"]);
    expect(ids("SELECT DISTINCT session_id AS v FROM turns")).toEqual(["recent"]);
    expect(ids("SELECT DISTINCT session_id AS v FROM threads")).toEqual(["recent"]);
    expect(ids("SELECT session_id AS v FROM usage")).toEqual(["recent"]);
    expect(ids("SELECT subject AS v FROM usage_totals WHERE scope = 'session'")).toEqual(["recent"]);
    expect(db.query("SELECT count(*) AS n FROM usage_totals WHERE scope = 'day'").get()).toEqual({ n: 1 });
  } finally {
    db.close();
  }
});

test("SESSION_RETENTION_DAYS=0 keeps everything", async () => {
  const dbPath = join(tempDir(), "lynkr.db");
  seed(dbPath);
  const gateway = startTestGateway({ SESSION_DB_PATH: dbPath, SESSION_RETENTION_DAYS: "0" });
  await gateway.shutdown();
  const db = new Database(dbPath, { readonly: true });
  expect(db.query("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 2 });
  db.close();
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
