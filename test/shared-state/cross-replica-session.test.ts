import { afterAll, beforeAll, expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { launchTestGateway } from "../helpers/gateway.ts";
import type { PostgresServer } from "../helpers/postgres-server.ts";
import { recordedSession } from "../helpers/recorded-sessions.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";
import { freshDatabase, releasePostgres, rowsOf, sharedPostgres } from "../helpers/storage-backends.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

// Three replicas on one PostgreSQL and one Redis; the turns of one recorded Claude Code session
// (two runs of a refactoring, eight requests) go to them round-robin, as a balancer without
// stickiness sends them. The session must come out as one record: every turn, in order, each
// storing only what it added to the thread the turn before (on another replica) left.

let pg: PostgresServer;
let redis: RedisServer;
let upstream: FakeUpstream;
let replicas: Awaited<ReturnType<typeof launchTestGateway>>[] = [];

beforeAll(async () => {
  [pg, redis] = await Promise.all([sharedPostgres(), startRedisServer()]);
  upstream = startFakeUpstream((req) => {
    const model = (req.json as { model: string }).model;
    return chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "done" }] }, model)));
  });
  const env = {
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    LYNKR_DATABASE_URL: await freshDatabase(pg),
    LYNKR_REDIS_URL: redis.url,
    LYNKR_DATABASE_POOL_MAX: "3",
    API_RETRY_MAX_RETRIES: "0",
  };
  replicas = await Promise.all([0, 1, 2].map(() => launchTestGateway(env)));
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.shutdown()));
  await upstream.stop();
  await redis.close();
  await releasePostgres();
});

test("turns of one Claude Code session sent round-robin to three replicas form one session record, in order", async () => {
  const requests = recordedSession("refactor-two-runs");
  const sessionId = requests[0]?.headers["x-claude-code-session-id"] ?? "";
  expect(requests.length).toBe(8);
  const sent: string[] = [];
  for (const [i, recorded] of requests.entries()) {
    const replica = replicas[i % replicas.length];
    if (!replica) throw new Error("no replica");
    const { "x-api-key": _key, "content-length": _length, host: _host, ...headers } = recorded.headers;
    const res = await fetch(`${replica.url}${recorded.path}`, { method: "POST", headers: { ...headers, "x-api-key": "k" }, body: JSON.stringify(recorded.body) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("message_stop");
    sent.push(res.headers.get("request-id") ?? "");
  }

  const [first] = replicas;
  if (!first) throw new Error("no replica");
  type Stored = { request_id: string; history_offset: number; new_messages: string };
  let turns: Stored[] = [];
  for (let waited = 0; turns.length < sent.length && waited < 10_000; waited += 20) {
    turns = await rowsOf<Stored>(first.gateway, `SELECT request_id, history_offset, new_messages FROM turns WHERE session_id = '${sessionId}' ORDER BY id`);
    if (turns.length < sent.length) await Bun.sleep(20);
  }
  expect(turns.map((t) => t.request_id)).toEqual(sent);
  // Each turn kept only the two messages it added: the thread as the previous replica left it.
  expect(turns.map((t) => t.history_offset)).toEqual(requests.map((r) => r.body.messages.length - 2));
  expect(turns.map((t) => (JSON.parse(t.new_messages) as unknown[]).length)).toEqual(requests.map(() => 2));
  const [session] = await rowsOf<{ turn_count: number }>(first.gateway, `SELECT turn_count FROM sessions WHERE id = '${sessionId}'`);
  expect(session?.turn_count).toBe(8);
  // Every replica reads the same record back: the status line's figures and the dashboard's.
  for (const replica of replicas) {
    const figures = (await (await fetch(`${replica.url}/v1/lynkr/sessions/${sessionId}`)).json()) as { turns: number; requests: number };
    expect(figures).toMatchObject({ turns: 8, requests: 8 });
    const dashboard = (await (await fetch(`${replica.url}/metrics/dashboard`)).json()) as {
      spend: { today_requests: number };
      upstream_cache_today: { input_tokens: number };
      recent: { session_id: string; request_id: string }[];
    };
    expect(dashboard.recent.map((t) => t.request_id)).toEqual([...sent].reverse());
    expect(dashboard.recent.every((t) => t.session_id === sessionId)).toBe(true);
    expect(dashboard.upstream_cache_today.input_tokens).toBe(8 * 100);
  }
}, 60_000);
