import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import type { MessageParam } from "../../src/anthropic/schema.ts";
import { openDatabase } from "../../src/store/db.ts";
import { SessionStore, TurnHasher, type TurnRecord } from "../../src/store/sessions.ts";
import { openPostgresStorage } from "../../src/store/storage.ts";
import { tempDir } from "../helpers/gateway.ts";
import type { PostgresServer } from "../helpers/postgres-server.ts";
import { recordedSession, recordedSessionNames } from "../helpers/recorded-sessions.ts";
import { freshDatabase, releasePostgres, rowsOf, sharedPostgres } from "../helpers/storage-backends.ts";

let pg: PostgresServer;
beforeAll(async () => {
  pg = await sharedPostgres();
}, 60_000);
afterAll(() => releasePostgres());

// Recording a turn hashes only what its thread's previous turn did not have; the records must be
// exactly those of hashing every message of every turn (TurnHasher(0) keeps nothing), in SQLite
// and in PostgreSQL alike.

function turn(sessionId: string, requestId: string, messages: MessageParam[]): TurnRecord {
  return {
    sessionId,
    requestId,
    provider: "anthropic",
    model: "m",
    requestedModel: "m",
    stream: true,
    status: 200,
    latencyMs: 1,
    firstByteMs: undefined,
    messages,
    response: undefined,
    error: undefined,
  };
}

/** Every recorded Claude Code session, then the edits a client may make to a history it re-sends. */
function traffic(): TurnRecord[] {
  const turns: TurnRecord[] = [];
  for (const name of recordedSessionNames) {
    for (const [i, recorded] of recordedSession(name).entries()) {
      turns.push(turn(recorded.headers["x-claude-code-session-id"] ?? name, `${name}-${i}`, structuredClone(recorded.request.messages)));
    }
  }
  const history: MessageParam[] = [
    { role: "user", content: "start" },
    { role: "assistant", content: [{ type: "text", text: "reading" }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "a long file" }] },
  ];
  turns.push(turn("edits", "e0", structuredClone(history)));
  // An older tool result cleared (as context editing does): that message hashes anew.
  const cleared = structuredClone([...history, { role: "assistant", content: "next" } as MessageParam]);
  cleared[2] = { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "[cleared]" }] };
  turns.push(turn("edits", "e1", cleared));
  // The same content with its keys in another order serialises otherwise: hashed anew, as in full.
  const reordered = structuredClone(cleared);
  reordered[1] = { content: [{ text: "reading", type: "text" }], role: "assistant" } as MessageParam;
  turns.push(turn("edits", "e2", reordered));
  // The cache marker moved onto the newest message: still the same history.
  const marked = structuredClone([...reordered, { role: "user", content: [{ type: "text", text: "go on", cache_control: { type: "ephemeral" } }] } as MessageParam]);
  turns.push(turn("edits", "e3", marked));
  turns.push(turn("edits", "e4", structuredClone([...marked.slice(0, -1), { role: "user", content: "go on" }, { role: "assistant", content: "done" }])));
  // A rewind to an earlier point of the thread.
  turns.push(turn("edits", "e5", structuredClone(history.slice(0, 2))));
  return turns;
}

const turnsQuery = "SELECT session_id, request_id, new_messages, history_offset FROM turns ORDER BY id";
const threadsQuery = "SELECT session_id, root_hash, history_len, history_hash FROM threads ORDER BY session_id, root_hash";
const sessionsQuery = "SELECT id, turn_count FROM sessions ORDER BY id";

function storedInSqlite(hasher: TurnHasher) {
  const db = openDatabase(":memory:");
  const sessions = new SessionStore(db, undefined, hasher);
  for (const t of traffic()) sessions.record(t);
  const rows = { turns: db.query(turnsQuery).all(), threads: db.query(threadsQuery).all(), sessions: db.query(sessionsQuery).all() };
  db.close();
  return rows;
}

test("hashing only what is new keeps exactly the records of hashing every message", () => {
  const everything = storedInSqlite(new TurnHasher(0));
  const incremental = storedInSqlite(new TurnHasher());
  expect(incremental).toEqual(everything);
  // The recorded sessions did reuse their threads: most turns kept only what they added.
  expect(everything.turns.filter((t) => (t as { history_offset: number }).history_offset > 0).length).toBeGreaterThan(10);
});

test("PostgreSQL keeps the same records as SQLite, turn by turn", async () => {
  const home = tempDir();
  const storage = await openPostgresStorage(
    loadConfig({ env: { HOME: home, SESSION_DB_PATH: `${home}/lynkr.db`, LYNKR_DATABASE_URL: await freshDatabase(pg) }, cwd: home }),
  );
  try {
    // One after the other, as a client sends a conversation's turns.
    for (const t of traffic()) await storage.sessions.record(t);
    const rows = { turns: await rowsOf(storage, turnsQuery), threads: await rowsOf(storage, threadsQuery), sessions: await rowsOf(storage, sessionsQuery) };
    expect(rows).toEqual(storedInSqlite(new TurnHasher(0)));
  } finally {
    await storage.close();
  }
}, 60_000);

test("a hasher keeping one session forgets the older one and still hashes right", () => {
  const a = [{ role: "user", content: "a" }, { role: "assistant", content: "b" }] as MessageParam[];
  const full = new TurnHasher(0);
  const small = new TurnHasher(1);
  for (const [session, messages] of [["s1", a], ["s2", a], ["s1", [...a, { role: "user", content: "c" }]]] as const) {
    expect(small.hashes({ sessionId: session, messages: structuredClone([...messages]) })).toEqual(full.hashes({ sessionId: session, messages: [...messages] }));
  }
});
