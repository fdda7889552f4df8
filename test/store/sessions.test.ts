import Anthropic from "@anthropic-ai/sdk";
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { databasePath } from "../../src/store/db.ts";
import { anthropicSse, chunkedResponse, jsonResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { launchTestGateway, startTestGateway, tempDir } from "../helpers/gateway.ts";
import { backends, freshDatabase, releasePostgres, rowsOf, sharedPostgres } from "../helpers/storage-backends.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";
import { waitForTurns } from "../helpers/turns.ts";

// Every turn in SQLite, or in PostgreSQL (LYNKR_DATABASE_URL): which session it belongs to
// (Claude Code's header, else the session in metadata.user_id, else a new one), what it added,
// what came back, usage, status and timing. The same tests run against both.

let upstream: FakeUpstream;

beforeAll(() => {
  upstream = startFakeUpstream((req) => {
    const model = (req.json as { model: string }).model;
    if (model === "broken") return jsonResponse({ type: "error", error: { type: "invalid_request_error", message: "bad thing" } }, 400);
    return chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "stored answer" }] }, `${model}-20261101`)));
  });
});

afterAll(async () => {
  await upstream.stop();
});

const ask = (text: string) => ({ model: "claude-x", max_tokens: 16, messages: [{ role: "user" as const, content: text }] });

describe.each(backends)("on %s", (backend) => {
  let gateway: Awaited<ReturnType<typeof launchTestGateway>>;
  let sdk: Anthropic;

  beforeAll(async () => {
    const env: Record<string, string> = { ANTHROPIC_UPSTREAM_URL: upstream.url, PROMPT_CACHE_ENABLED: "false", API_RETRY_MAX_RETRIES: "0" };
    if (backend === "postgres") env.LYNKR_DATABASE_URL = await freshDatabase(await sharedPostgres());
    gateway = await launchTestGateway(env);
    sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await gateway.shutdown();
    if (backend === "postgres") await releasePostgres();
  });

  async function sessionsOf(requestId: string): Promise<string | undefined> {
    const rows = await rowsOf<{ session_id: string }>(gateway.gateway, `SELECT session_id FROM turns WHERE request_id = '${requestId}'`);
    return rows[0]?.session_id;
  }

  async function turnFor(requestId: string | null): Promise<string | undefined> {
    for (let i = 0; i < 200; i++) {
      const found = await sessionsOf(requestId ?? "");
      if (found) return found;
      await Bun.sleep(5);
    }
    return undefined;
  }

  test("the session comes from x-claude-code-session-id first", async () => {
    const { response } = await sdk.messages
      .create({ ...ask("a"), metadata: { user_id: JSON.stringify({ device_id: "d", account_uuid: "", session_id: "from-metadata" }) } }, { headers: { "x-claude-code-session-id": "from-header" } })
      .withResponse();
    expect(await turnFor(response.headers.get("request-id"))).toBe("from-header");
  });

  test("else from metadata.user_id, as Claude Code's JSON string or its older user_…_session_<id> form", async () => {
    const json = await sdk.messages.create({ ...ask("b"), metadata: { user_id: JSON.stringify({ device_id: "d", account_uuid: "", session_id: "5b0e6a1c-0000-4000-8000-000000000001" }) } }).withResponse();
    expect(await turnFor(json.response.headers.get("request-id"))).toBe("5b0e6a1c-0000-4000-8000-000000000001");
    const legacy = await sdk.messages.create({ ...ask("c"), metadata: { user_id: "user_abc123_account_x_session_6c1f7b2a-0000-4000-8000-000000000002" } }).withResponse();
    expect(await turnFor(legacy.response.headers.get("request-id"))).toBe("6c1f7b2a-0000-4000-8000-000000000002");
  });

  test("else a new session for each request", async () => {
    const first = await sdk.messages.create(ask("d")).withResponse();
    const second = await sdk.messages.create(ask("d")).withResponse();
    const a = await turnFor(first.response.headers.get("request-id"));
    const b = await turnFor(second.response.headers.get("request-id"));
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  test("a turn holds the answer, usage, provider, both model names, status and timings", async () => {
    const stream = sdk.messages.stream(ask("e"), { headers: { "x-claude-code-session-id": "full-record" } });
    await stream.finalMessage();
    const [turn] = await waitForTurns(gateway.gateway, "full-record", 1);
    const [row] = await rowsOf<Record<string, unknown>>(gateway.gateway, `SELECT * FROM turns WHERE id = ${turn?.id ?? -1}`);
    expect(row).toMatchObject({
      provider: "anthropic",
      model: "claude-x-20261101",
      requested_model: "claude-x",
      stream: 1,
      status: 200,
      input_tokens: 100,
      output_tokens: 20,
      stop_reason: "end_turn",
      history_offset: 0,
    });
    expect(JSON.parse(String(row?.new_messages))).toEqual([{ role: "user", content: "e" }]);
    expect(JSON.parse(String(row?.response))).toMatchObject({ content: [{ type: "text", text: "stored answer" }] });
    expect(Number(row?.latency_ms)).toBeGreaterThan(0);
    expect(Number(row?.first_byte_ms)).toBeGreaterThan(0);
    expect(Number(row?.first_byte_ms)).toBeLessThanOrEqual(Number(row?.latency_ms));
  });

  test("a failed turn is recorded with its status and error", async () => {
    await sdk.messages.create({ ...ask("f"), model: "broken" }, { headers: { "x-claude-code-session-id": "failed-turn" } }).catch(() => {});
    const [turn] = await waitForTurns(gateway.gateway, "failed-turn", 1);
    expect(turn?.status).toBe(400);
    const [row] = await rowsOf<{ error: string; response: string | null }>(gateway.gateway, `SELECT error, response FROM turns WHERE id = ${turn?.id ?? -1}`);
    expect(JSON.parse(row?.error ?? "{}")).toEqual({ type: "invalid_request_error", message: "bad thing" });
    expect(row?.response).toBeNull();
  });

  test("a conversation stores each message once: every turn only what it added", async () => {
    const headers = { "x-claude-code-session-id": "growing" };
    const history: Anthropic.MessageParam[] = [{ role: "user", content: "one" }];
    for (let i = 0; i < 3; i++) {
      const answer = await sdk.messages.create({ model: "claude-x", max_tokens: 16, messages: history }, { headers });
      history.push({ role: "assistant", content: answer.content.map((b) => (b.type === "text" ? { type: "text" as const, text: b.text } : { type: "text" as const, text: "" })) });
      history.push({ role: "user", content: `turn ${i + 2}` });
    }
    const turns = await waitForTurns(gateway.gateway, "growing", 3);
    expect(turns.map((t) => (JSON.parse(t.new_messages) as unknown[]).length)).toEqual([1, 2, 2]);
    expect(turns.map((t) => t.history_offset)).toEqual([0, 1, 3]);
    const [session] = await rowsOf<{ turn_count: number }>(gateway.gateway, "SELECT turn_count FROM sessions WHERE id = 'growing'");
    expect(session?.turn_count).toBe(3);
  });

  test("the database has its migrations recorded (SQLite: in WAL mode; PostgreSQL: the core area)", async () => {
    const db = gateway.gateway.db;
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    const versions = db.query<{ version: number }, []>("SELECT version FROM schema_migrations ORDER BY version").all().map((r) => r.version);
    expect(versions[0]).toBe(1);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    if (backend === "postgres") {
      const core = await rowsOf<{ version: number }>(gateway.gateway, "SELECT version FROM lynkr_migrations WHERE area = 'core' ORDER BY version");
      expect(core.map((r) => r.version)[0]).toBe(1);
    }
  });
});

test("default database: $XDG_DATA_HOME/lynkr, else ~/.lynkr; SESSION_DB_PATH wins; reopening keeps the data", async () => {
  const home = tempDir();
  expect(databasePath(loadConfig({ env: { HOME: home }, cwd: home }))).toBe(join(home, ".lynkr", "lynkr.db"));
  expect(databasePath(loadConfig({ env: { HOME: home, XDG_DATA_HOME: join(home, "xdg") }, cwd: home }))).toBe(join(home, "xdg", "lynkr", "lynkr.db"));
  expect(databasePath(loadConfig({ env: { HOME: home, SESSION_DB_PATH: join(home, "my.db") }, cwd: home }))).toBe(join(home, "my.db"));

  const path = join(home, "kept", "lynkr.db");
  const first = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, SESSION_DB_PATH: path, PROMPT_CACHE_ENABLED: "false" });
  const client = new Anthropic({ baseURL: first.url, apiKey: "k", maxRetries: 0 });
  await client.messages.create(ask("persist"), { headers: { "x-claude-code-session-id": "kept" } });
  await waitForTurns(first.gateway.db, "kept", 1);
  await first.shutdown();
  expect(existsSync(path)).toBe(true);
  const second = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, SESSION_DB_PATH: path });
  await second.shutdown();
  const db = new Database(path, { readonly: true });
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM turns WHERE session_id = 'kept'").get()?.n).toBe(1);
  db.close();
});
