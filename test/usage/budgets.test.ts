import Anthropic from "@anthropic-ai/sdk";
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { anthropicSse, chunkedResponse, readWire, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";

let upstream: FakeUpstream;

beforeAll(async () => {
  // claude-3-opus: 15 input + 13 output tokens at $15 / $75 per million = $0.0012 per answer.
  const recorded = await readWire("upstream/anthropic/stream-text.sse");
  upstream = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
});
afterAll(() => upstream.stop());

const ask = (session: string) => ({
  model: "claude-3-opus-20240229",
  max_tokens: 16,
  messages: [{ role: "user" as const, content: "count" }],
  metadata: { user_id: JSON.stringify({ device_id: "d", session_id: session }) },
});

test("a daily budget runs out, names itself and its reset time, and still holds after a restart", async () => {
  const dbPath = join(tempDir(), "lynkr.db");
  const env = { ANTHROPIC_UPSTREAM_URL: upstream.url, SESSION_DB_PATH: dbPath, BUDGET_DAILY_USD: "0.002" };
  let gateway = startTestGateway(env);
  const callsBefore = upstream.received.length;
  try {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
    await client.messages.create(ask("a"));
    await Bun.sleep(20);
    await client.messages.create(ask("b"));
    await Bun.sleep(20);
    const refused = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("c")) });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-should-retry")).toBe("false");
    const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1));
    expect(Math.abs(Number(refused.headers.get("retry-after")) - (tomorrow.getTime() - Date.now()) / 1000)).toBeLessThan(2);
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toBe(`budget exhausted: the gateway's daily budget (BUDGET_DAILY_USD=$0.0020) is spent ($0.0024); it resets at ${tomorrow.toISOString()}`);
    // Refused before the upstream was called.
    expect(upstream.received.length - callsBefore).toBe(2);
  } finally {
    await gateway.shutdown();
  }

  gateway = startTestGateway(env);
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("d")) });
    expect(res.status).toBe(429);
    expect(upstream.received.length - callsBefore).toBe(2);
  } finally {
    await gateway.shutdown();
  }

  // Cost per request, session and day are in the database.
  const db = new Database(dbPath, { readonly: true });
  const rows = db.query("SELECT session_id, cost_usd, estimated, input_tokens, output_tokens FROM usage ORDER BY id").all();
  expect(rows).toEqual([
    { session_id: "a", cost_usd: 0.0012, estimated: 0, input_tokens: 15, output_tokens: 13 },
    { session_id: "b", cost_usd: 0.0012, estimated: 0, input_tokens: 15, output_tokens: 13 },
  ]);
  db.close();
});

test("a session budget stops only that session", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, BUDGET_SESSION_USD: "0.001" });
  try {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
    await client.messages.create(ask("s1"));
    await Bun.sleep(20);
    const error = await client.messages.create(ask("s1")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as Error).message).toContain("this session's budget (BUDGET_SESSION_USD=$0.0010)");
    expect((error as Error).message).toContain("it does not reset: start a new session");
    expect((await client.messages.create(ask("s2"))).stop_reason).toBe("end_turn");
  } finally {
    await gateway.shutdown();
  }
});

test("an upstream without usage gets a local estimate, marked as estimated", async () => {
  const bare = startFakeUpstream(() =>
    chunkedResponse(
      anthropicSse([
        { type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "claude-3-opus-20240229", content: [] } },
        { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hello there, friend" } },
        { type: "content_block_stop", index: 0 },
        { type: "message_delta", delta: { stop_reason: "end_turn" } },
        { type: "message_stop" },
      ]),
    ),
  );
  const dbPath = join(tempDir(), "lynkr.db");
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: bare.url, SESSION_DB_PATH: dbPath });
  try {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
    await client.messages.create(ask("e"));
    await Bun.sleep(20);
    const metrics = await (await fetch(`${gateway.url}/metrics/prometheus`)).text();
    expect(metrics).toMatch(/lynkr_tokens_total\{provider="anthropic",model="claude-3-opus-20240229",direction="output",estimated="true"\} [1-9]/);
  } finally {
    await gateway.shutdown();
    await bare.stop();
  }
  const db = new Database(dbPath, { readonly: true });
  const row = db.query<{ estimated: number; input_tokens: number; output_tokens: number }, []>("SELECT estimated, input_tokens, output_tokens FROM usage").get();
  expect(row?.estimated).toBe(1);
  expect(row?.input_tokens).toBeGreaterThan(0);
  expect(row?.output_tokens).toBeGreaterThan(0);
  db.close();
});
