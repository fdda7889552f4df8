import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { launchTestGateway } from "../helpers/gateway.ts";
import type { PostgresServer } from "../helpers/postgres-server.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";
import { freshDatabase, releasePostgres, sharedPostgres, storedRows } from "../helpers/storage-backends.ts";

// PostgreSQL restarted under load: two replicas answer concurrent requests while the real server
// stops and starts again. They keep answering while it is away; writes are retried until it is
// back; every answer a client got in full has its usage row and its turn record afterwards, each
// exactly once.

let pg: PostgresServer;
let upstream: FakeUpstream;

beforeAll(async () => {
  pg = await sharedPostgres();
  upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "kept" }] }, "claude-x-20261101"))));
}, 60_000);

afterAll(async () => {
  await upstream.stop();
  await releasePostgres();
});

test("PostgreSQL restarted during concurrent requests: nothing acknowledged is lost, nothing is written twice", async () => {
  const env = { ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_DATABASE_URL: await freshDatabase(pg), LYNKR_DATABASE_POOL_MAX: "4", API_RETRY_MAX_RETRIES: "0" };
  const replicas = await Promise.all([launchTestGateway(env), launchTestGateway(env)]);
  const acknowledged: string[] = [];
  const failed: string[] = [];
  let phase: "before" | "down" | "after" | "done" = "before";
  let duringOutage = 0;
  const worker = async (w: number) => {
    for (let i = 0; phase !== "done"; i++) {
      const replica = replicas[(w + i) % replicas.length];
      if (!replica) return;
      const sdk = new Anthropic({ baseURL: replica.url, apiKey: "k", maxRetries: 0 });
      const stream = i % 2 === 0;
      const body = { model: "claude-x", max_tokens: 16, messages: [{ role: "user" as const, content: `w${w} turn ${i}` }] };
      const headers = { headers: { "x-claude-code-session-id": `restart-${w}` } };
      try {
        const { response } = stream
          ? await sdk.messages.stream(body, headers).withResponse().then(async (r) => {
              await r.data.finalMessage();
              return r;
            })
          : await sdk.messages.create(body, headers).withResponse();
        acknowledged.push(response.headers.get("request-id") ?? "");
        if (phase === "down") duringOutage += 1;
      } catch (error) {
        failed.push(String(error));
      }
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  const until = async (count: number) => {
    for (let waited = 0; acknowledged.length < count && waited < 30_000; waited += 10) await Bun.sleep(10);
  };
  await until(20);
  phase = "down";
  await pg.stop();
  // Requests keep coming while it is away; their records wait for it. The replica says so, and still serves.
  const ready = async () => {
    const res = await fetch(`${replicas[0]?.url}/health/ready`);
    return { status: res.status, body: (await res.json()) as { status: string; checks: { database: string } } };
  };
  const away = await ready();
  expect(away.status).toBe(200);
  expect(away.body.status).toBe("degraded");
  expect(away.body.checks.database).toStartWith("degraded: postgres unreachable");
  // Answers in flight wait a moment for their records, then go on; later ones do not wait.
  for (let waited = 0; duringOutage < 8 && waited < 30_000; waited += 20) await Bun.sleep(20);
  await pg.start();
  expect((await ready()).body).toMatchObject({ status: "ready", checks: { database: "ok" } });
  phase = "after";
  const back = acknowledged.length;
  await until(back + 20);
  phase = "done";
  await Promise.all(workers);
  await Promise.all(replicas.map((replica) => replica.shutdown()));

  expect(failed).toEqual([]);
  expect(duringOutage).toBeGreaterThan(0);
  const usage = await storedRows<{ request_id: string }>(env, "SELECT request_id FROM usage");
  const turns = await storedRows<{ request_id: string }>(env, "SELECT request_id FROM turns");
  const sorted = (ids: string[]) => [...ids].sort();
  expect(sorted(usage.map((r) => r.request_id))).toEqual(sorted(acknowledged));
  expect(sorted(turns.map((r) => r.request_id))).toEqual(sorted(acknowledged));
  const [totals] = await storedRows<{ requests: number }>(env, "SELECT requests FROM usage_totals WHERE scope = 'day'");
  expect(totals?.requests).toBe(acknowledged.length);
}, 120_000);

test("a budget this replica has not read yet is not let through unchecked while PostgreSQL is away: 529, then served once it is back", async () => {
  const env = { ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_DATABASE_URL: await freshDatabase(pg), BUDGET_SESSION_USD: "5", API_RETRY_MAX_RETRIES: "0" };
  const gateway = await launchTestGateway(env);
  const ask = (session: string) =>
    fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-claude-code-session-id": session },
      body: JSON.stringify({ model: "claude-3-opus-20240229", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
    });
  try {
    expect((await ask("known")).status).toBe(200);
    await pg.stop();
    try {
      // Its totals are in memory: still checked, still served.
      expect((await ask("known")).status).toBe(200);
      const refused = await ask("new-while-away");
      expect(refused.status).toBe(529);
      expect(refused.headers.get("retry-after")).toBe("2");
      expect(((await refused.json()) as { error: { type: string } }).error.type).toBe("overloaded_error");
    } finally {
      await pg.start();
    }
    expect((await ask("new-while-away")).status).toBe(200);
  } finally {
    await gateway.shutdown();
  }
}, 120_000);
