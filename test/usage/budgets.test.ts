import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, readWire, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { launchTestGateway } from "../helpers/gateway.ts";
import { backends, recordsFor, storedRows } from "../helpers/storage-backends.ts";

let upstream: FakeUpstream;

beforeAll(async () => {
  // claude-3-opus: 15 input + 13 output tokens at $15 / $75 per million = $0.0012 per answer.
  const recorded = await readWire("upstream/anthropic/stream-text.sse");
  upstream = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
});
afterAll(() => upstream.stop());

// max_tokens 1: a request reserves its input estimate (a quarter token a byte at the cache-write
// price, $18.75 per million) and one output token ($75 per million), ≈ $0.0009, before its call.
const ask = (session: string) => ({
  model: "claude-3-opus-20240229",
  max_tokens: 1,
  messages: [{ role: "user" as const, content: "count" }],
  metadata: { user_id: JSON.stringify({ device_id: "d", session_id: session }) },
});

// Each test runs on the embedded SQLite database and on PostgreSQL (LYNKR_DATABASE_URL): the
// budgets read the same totals, written through, from either.
describe.each(backends)("on %s", (backend) => {
  const records = recordsFor(backend);

  test("a daily budget runs out, names itself and its reset time, and still holds after a restart", async () => {
    const env = { ANTHROPIC_UPSTREAM_URL: upstream.url, ...(await records()), BUDGET_DAILY_USD: "0.0022" };
    let gateway = await launchTestGateway(env);
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
      expect(body.error.message).toBe(`budget exhausted: the gateway's daily budget (BUDGET_DAILY_USD=$0.0022) is spent ($0.0024); it resets at ${tomorrow.toISOString()}`);
      // Refused before the upstream was called.
      expect(upstream.received.length - callsBefore).toBe(2);
    } finally {
      await gateway.shutdown();
    }

    gateway = await launchTestGateway(env);
    try {
      const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("d")) });
      expect(res.status).toBe(429);
      expect(upstream.received.length - callsBefore).toBe(2);
    } finally {
      await gateway.shutdown();
    }

    // Cost per request, session and day are in the database.
    const rows = await storedRows(env, "SELECT session_id, cost_usd, estimated, input_tokens, output_tokens FROM usage ORDER BY id");
    expect(rows).toEqual([
      { session_id: "a", cost_usd: 0.0012, estimated: 0, input_tokens: 15, output_tokens: 13 },
      { session_id: "b", cost_usd: 0.0012, estimated: 0, input_tokens: 15, output_tokens: 13 },
    ]);
  });

  test("a session budget stops only that session", async () => {
    const gateway = await launchTestGateway({ ...(await records()), ANTHROPIC_UPSTREAM_URL: upstream.url, BUDGET_SESSION_USD: "0.001" });
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
    const env = { ANTHROPIC_UPSTREAM_URL: bare.url, ...(await records()) };
    const gateway = await launchTestGateway(env);
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
    const [row] = await storedRows<{ estimated: number; input_tokens: number; output_tokens: number }>(env, "SELECT estimated, input_tokens, output_tokens FROM usage");
    expect(row?.estimated).toBe(1);
    expect(row?.input_tokens).toBeGreaterThan(0);
    expect(row?.output_tokens).toBeGreaterThan(0);
  });

  test("20 concurrent requests against a nearly spent budget: only those whose reservation fits reach the upstream", async () => {
    // Answers wait at this gate, so the 20 requests are all in flight together.
    let gate: Promise<void> = Promise.resolve();
    let open: () => void = () => {};
    const recorded = await readWire("upstream/anthropic/stream-text.sse");
    const held = startFakeUpstream(async () => {
      await gate;
      return chunkedResponse(sseEvents(recorded));
    });
    // $0.03 a day, $0.0012 already spent: $0.0288 left. Each request asks for max_tokens 100, so
    // it reserves at least 100 × $75 per million = $0.0075: at most 3 fit.
    const gateway = await launchTestGateway({ ...(await records()), ANTHROPIC_UPSTREAM_URL: held.url, BUDGET_DAILY_USD: "0.03" });
    try {
      const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
      await client.messages.create(ask("spent"));
      await Bun.sleep(50);
      const spentCalls = held.received.length;

      gate = new Promise<void>((resolve) => (open = resolve));
      const statuses: number[] = [];
      const requests = Array.from({ length: 20 }, (_, i) =>
        fetch(`${gateway.url}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...ask(`c${i}`), max_tokens: 100 }),
        }).then(async (res) => {
          statuses.push(res.status);
          await res.text();
        }),
      );
      // Every request is either refused or held at the upstream before any answer comes back.
      for (let waited = 0; statuses.length + held.received.length - spentCalls < 20 && waited < 30_000; waited += 20) await Bun.sleep(20);
      const admitted = held.received.length - spentCalls;
      open();
      await Promise.all(requests);
      expect(admitted).toBeGreaterThanOrEqual(1);
      expect(admitted).toBeLessThanOrEqual(3);
      expect(statuses.filter((s) => s === 429).length).toBe(20 - admitted);
      expect(statuses.filter((s) => s === 200).length).toBe(admitted);
    } finally {
      open();
      await gateway.shutdown();
      await held.stop();
    }
  });

  test("a budget refuses an unpriced model unless BUDGET_ALLOW_UNPRICED=true", async () => {
    const body = JSON.stringify({ ...ask("u"), model: "mystery-model-1" });
    const post = (url: string) => fetch(`${url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body });
    let gateway = await launchTestGateway({ ...(await records()), ANTHROPIC_UPSTREAM_URL: upstream.url, BUDGET_DAILY_USD: "5" });
    try {
      const refused = await post(gateway.url);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("x-should-retry")).toBe("false");
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("model mystery-model-1 has no price");
    } finally {
      await gateway.shutdown();
    }
    gateway = await launchTestGateway({ ...(await records()), ANTHROPIC_UPSTREAM_URL: upstream.url, BUDGET_DAILY_USD: "5", BUDGET_ALLOW_UNPRICED: "true" });
    try {
      const res = await post(gateway.url);
      expect(res.status).toBe(200);
      await res.text();
    } finally {
      await gateway.shutdown();
    }
  });
});
