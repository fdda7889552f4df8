import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chunkedResponse, readWire, sseEvents, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;

beforeAll(async () => {
  const recorded = await readWire("upstream/anthropic/stream-text.sse");
  upstream = startFakeUpstream((req) =>
    (req.json as { model?: string }).model === "claude-broken"
      ? new Response(JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "bad" } }), { status: 400 })
      : chunkedResponse(sseEvents(recorded)),
  );
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant-upstream-secret-1234" });
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "client", maxRetries: 0 });
  await client.messages.create({ model: "claude-3-opus-20240229", max_tokens: 64, messages: [{ role: "user", content: "a" }] });
  await client.messages.stream({ model: "claude-3-opus-20240229", max_tokens: 64, messages: [{ role: "user", content: "b" }] }).finalMessage();
  await client.messages.create({ model: "claude-broken", max_tokens: 64, messages: [{ role: "user", content: "c" }] }).catch(() => {});
  // Metrics are recorded right after each answer went out.
  await Bun.sleep(20);
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
});

test("the Prometheus exposition passes promtool check metrics and counts requests, tokens and cost", async () => {
  const res = await fetch(`${gateway.url}/metrics/prometheus`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await res.text();

  // A missing promtool fails this test (CI installs Debian's prometheus package).
  const promtool = Bun.spawn(["promtool", "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(promtool.stdout).text(), new Response(promtool.stderr).text(), promtool.exited]);
  expect({ code, out, err }).toEqual({ code: 0, out: "", err: "" });

  expect(text).toContain('lynkr_requests_total{provider="anthropic",model="claude-3-opus-20240229",route="static",status="200"} 2');
  expect(text).toContain('lynkr_requests_total{provider="anthropic",model="claude-broken",route="static",status="400"} 1');
  expect(text).toContain('lynkr_tokens_total{provider="anthropic",model="claude-3-opus-20240229",direction="input",estimated="false"} 30');
  expect(text).toContain('lynkr_tokens_total{provider="anthropic",model="claude-3-opus-20240229",direction="output",estimated="false"} 26');
  // 15 input and 13 output tokens at $15 / $75 per million, twice.
  expect(text).toMatch(/lynkr_cost_usd_total\{provider="anthropic",model="claude-3-opus-20240229"\} 0\.0024\d*/);
  expect(text).toContain('lynkr_request_duration_seconds_count{provider="anthropic",model="claude-3-opus-20240229",route="static"} 2');
  expect(text).toContain('lynkr_http_requests_total{method="POST",path="/v1/messages",status="200"} 2');
  expect(text).toContain("process_resident_memory_bytes ");
  expect(text).not.toContain("sk-ant-upstream-secret-1234");
});

test("the JSON view reports requests, errors, latency percentiles, tokens and cost by provider and model", async () => {
  const body = (await (await fetch(`${gateway.url}/metrics/observability`)).json()) as {
    totals: { requests: number; errors: number; input_tokens: number; output_tokens: number; cost_usd: number; latency_ms: { p50: number; p95: number; p99: number } };
    by_provider_model: { provider: string; model: string; requests: number }[];
    routing: { decisions: Record<string, number> };
    cache: Record<string, number>;
  };
  expect(body.totals).toMatchObject({ requests: 3, errors: 1, input_tokens: 30, output_tokens: 26, cost_usd: 0.0024 });
  expect(body.totals.latency_ms.p50).toBeGreaterThan(0);
  expect(body.totals.latency_ms.p99).toBeGreaterThanOrEqual(body.totals.latency_ms.p50);
  expect(body.by_provider_model).toContainEqual(expect.objectContaining({ provider: "anthropic", model: "claude-3-opus-20240229", requests: 2 }));
  expect(body.routing.decisions.static).toBe(3);
});

test("circuit breakers are listed per provider", async () => {
  const body = (await (await fetch(`${gateway.url}/metrics/circuit-breakers`)).json()) as { circuit_breakers: unknown[] };
  expect(body.circuit_breakers).toContainEqual({ provider: "anthropic", state: "closed", retry_in_ms: 0 });
});
