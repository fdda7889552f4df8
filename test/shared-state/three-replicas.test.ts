import { RedisClient } from "bun";
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageStore } from "../../src/store/usage.ts";
import { jsonResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";

// Three replicas (three gateways) sharing one real redis-server, requests spread round-robin by
// the test. Each answer costs exactly its reservation: no input price, max_tokens = output tokens
// at $15.625 per million = $1/64 per request, a binary fraction, so sums are exact.

const model = "scale-test-model";
const maxTokens = 1000;
const requestUsd = (maxTokens * 15.625) / 1_000_000;

type Replica = ReturnType<typeof startTestGateway>;

let redis: RedisServer;
let pricesFile: string;
let upstream: FakeUpstream | undefined;
let replicas: Replica[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  pricesFile = join(tempDir("lynkr-scale-"), "lynkr.json");
  writeFileSync(pricesFile, JSON.stringify({ prices: { [model]: { input: 0, output: 15.625 } } }));
});

afterAll(async () => {
  await redis.close();
});

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.shutdown()));
  replicas = [];
  await upstream?.stop();
  upstream = undefined;
  const admin = new RedisClient(redis.url);
  await admin.send("FLUSHALL", []);
  admin.close();
});

function answer(): Response {
  return jsonResponse({
    id: "msg_scale",
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text: "ok" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: maxTokens },
  });
}

async function readyState(replica: Replica): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const res = await fetch(`${replica.url}/health/ready`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
}

async function startReplicas(env: Record<string, string>): Promise<Replica[]> {
  replicas = [0, 1, 2].map(() =>
    startTestGateway({ LYNKR_REDIS_URL: redis.url, LYNKR_CONFIG: pricesFile, API_RETRY_MAX_RETRIES: "0", ...env }),
  );
  for (const replica of replicas) {
    expect(await eventually(async () => (await readyState(replica)).body.checks.shared_state === "ok", 10_000)).toBe(true);
  }
  return replicas;
}

function send(replica: Replica, text: string): Promise<Response> {
  return fetch(`${replica.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, max_tokens: maxTokens, messages: [{ role: "user", content: text }] }),
  });
}

test("a $1.00 daily budget admits exactly what it pays for across three replicas, under 300 concurrent requests", async () => {
  upstream = startFakeUpstream(async () => {
    await Bun.sleep(30);
    return answer();
  });
  const three = await startReplicas({ ANTHROPIC_UPSTREAM_URL: upstream.url, BUDGET_DAILY_USD: "1.00" });
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => send(three[i % 3] as Replica, `request ${i}`)));
  const statuses = await Promise.all(results.map(async (res) => ({ status: res.status, body: await res.text() })));
  const admitted = statuses.filter((r) => r.status === 200).length;
  const refused = statuses.filter((r) => r.status === 429);
  expect(admitted + refused.length).toBe(300);
  // 64 × $1/64 = $1.00: the shared holds admit exactly that many, not 3 × 64.
  expect(admitted).toBe(1 / requestUsd);
  expect(refused[0]?.body).toContain("BUDGET_DAILY_USD");
  const day = new Date().toISOString().slice(0, 10);
  const charged = three.reduce((sum, replica) => sum + new UsageStore(replica.gateway.db).totals("day", "", day).cost_usd, 0);
  expect(charged).toBeLessThanOrEqual(1.0 + requestUsd);
  expect(upstream.received.length).toBe(admitted);
});

test("RATE_LIMIT_REQUESTS_PER_MINUTE=60 admits 60 across three replicas; the rest get 429 with retry-after", async () => {
  upstream = startFakeUpstream(() => answer());
  const three = await startReplicas({ ANTHROPIC_UPSTREAM_URL: upstream.url, RATE_LIMIT_REQUESTS_PER_MINUTE: "60" });
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 120 }, (_, i) => send(three[i % 3] as Replica, `request ${i}`)));
  const elapsedSeconds = Math.floor((Date.now() - started) / 1000);
  const admitted = results.filter((res) => res.status === 200).length;
  const refused = results.filter((res) => res.status === 429);
  // The bucket refills one request per second: a slow machine may see one more per second taken.
  expect(admitted).toBeGreaterThanOrEqual(60);
  expect(admitted).toBeLessThanOrEqual(60 + elapsedSeconds);
  expect(admitted + refused.length).toBe(120);
  for (const res of refused) expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  // Counted as refused by the rate limit, where each was refused.
  let counted = 0;
  for (const replica of three) {
    const metrics = await (await fetch(`${replica.url}/metrics/prometheus`)).text();
    counted += Number(/lynkr_rejected_requests_total\{reason="rate_limited"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  }
  expect(counted).toBe(refused.length);
});

test("a provider failing on replica 1 opens its circuit on replicas 2 and 3 within one second", async () => {
  upstream = startFakeUpstream(() => jsonResponse({ type: "error", error: { type: "api_error", message: "down" } }, 500));
  const [first, ...others] = await startReplicas({ ANTHROPIC_UPSTREAM_URL: upstream.url, CIRCUIT_BREAKER_FAILURE_THRESHOLD: "3" });
  const state = (replica: Replica) => replica.gateway.router.circuits().find((c) => c.credential === undefined)?.state;
  for (let i = 0; i < 3; i++) await (await send(first as Replica, `failing ${i}`)).text();
  expect(state(first as Replica)).toBe("open");
  expect(await eventually(() => others.every((replica) => state(replica) === "open"), 1_000)).toBe(true);
  // Their timeout counts from replica 1's opening: none of them called the provider.
  for (const replica of others) expect(replica.gateway.router.circuits()[0]?.retry_in_ms).toBeGreaterThan(0);
  expect(upstream.received.length).toBe(3);
});

test("Redis stopped mid-run: replicas keep serving, degraded, then reconnect and add what they charged meanwhile", async () => {
  upstream = startFakeUpstream(() => answer());
  const three = await startReplicas({ ANTHROPIC_UPSTREAM_URL: upstream.url, BUDGET_DAILY_USD: "100", RATE_LIMIT_REQUESTS_PER_MINUTE: "600" });
  for (let i = 0; i < 3; i++) expect((await send(three[i] as Replica, `before ${i}`)).status).toBe(200);
  // Settles go to Redis after the answer: wait until all three landed, or one still on its way when
  // Redis stops is (rightly) kept for later and added back with the six below.
  const spentKey = async () => {
    const admin = new RedisClient(redis.url);
    try {
      const keys = (await admin.send("KEYS", ["lynkr:budget:*:spent"])) as string[];
      return keys.length === 1 ? Number(await admin.send("GET", [keys[0] as string])) : 0;
    } finally {
      admin.close();
    }
  };
  expect(await eventually(async () => (await spentKey()) === 3 * requestUsd, 5_000)).toBe(true);

  await redis.stop();
  for (let i = 0; i < 6; i++) expect((await send(three[i % 3] as Replica, `during ${i}`)).status).toBe(200);
  for (const replica of three) {
    const ready = await readyState(replica);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("degraded");
    expect(ready.body.checks.shared_state).toStartWith("degraded");
    expect(await (await fetch(`${replica.url}/metrics/prometheus`)).text()).toContain("lynkr_shared_state_up 0");
  }

  await redis.start();
  for (const replica of three) {
    expect(await eventually(async () => (await readyState(replica)).body.checks.shared_state === "ok", 10_000)).toBe(true);
    expect(await (await fetch(`${replica.url}/metrics/prometheus`)).text()).toContain("lynkr_shared_state_up 1");
  }
  // The restarted Redis kept nothing; the six answers charged while it was away are added back.
  const admin = new RedisClient(redis.url);
  try {
    const keys = (await admin.send("KEYS", ["lynkr:budget:*:spent"])) as string[];
    expect(keys.length).toBe(1);
    const spent = (key: string) => admin.send("GET", [key]).then(Number);
    expect(await eventually(async () => (await spent(keys[0] as string)) === 6 * requestUsd, 5_000)).toBe(true);
  } finally {
    admin.close();
  }
  for (let i = 0; i < 3; i++) expect((await send(three[i] as Replica, `after ${i}`)).status).toBe(200);
}, 60_000);
