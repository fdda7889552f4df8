import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chunkedResponse, readWire, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { tempDir } from "../helpers/gateway.ts";
import { lynkrFromSource, spawnLynkr } from "../helpers/lynkr-process.ts";

const lynkrKey = "lynkr-key-do-not-log-4821";
const upstreamKey = "sk-ant-api03-upstream-do-not-log-7731";
const secretInBody = "sk-proj-secret-pasted-into-a-prompt-9917";
let upstream: FakeUpstream;

beforeAll(async () => {
  const recorded = await readWire("upstream/anthropic/stream-text.sse");
  upstream = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
});
afterAll(() => upstream.stop());

type Line = Record<string, unknown>;

test("one line per request with id, route, tokens, cost and cache; debug adds bodies; no secret anywhere in the log", async () => {
  const dir = tempDir();
  const gw = await spawnLynkr(lynkrFromSource, {
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    ANTHROPIC_UPSTREAM_API_KEY: upstreamKey,
    LYNKR_API_KEYS: `ops:${lynkrKey}`,
    LOG_LEVEL: "debug",
  }, dir);
  const post = (headers: Record<string, string>, stream: boolean) =>
    fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({
        model: "claude-3-opus-20240229",
        max_tokens: 64,
        stream,
        messages: [{ role: "user", content: `my key is ${secretInBody}, count please` }],
      }),
    });
  expect((await post({ "x-api-key": lynkrKey, "x-request-id": "trace-abc-123" }, true).then((r) => r.text())).length).toBeGreaterThan(0);
  expect((await post({ authorization: `Bearer ${lynkrKey}` }, false)).status).toBe(200);
  expect((await post({ "x-api-key": "not-the-key-55555" }, false)).status).toBe(401);
  await Bun.sleep(100);
  expect(await gw.stop()).toBe(0);

  const output = gw.output();
  for (const secret of [lynkrKey, upstreamKey, secretInBody, "not-the-key-55555"]) expect(output).not.toContain(secret);

  const lines = output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Line);
  const requests = lines.filter((l) => l.path === "/v1/messages" && l.status !== undefined);
  expect(requests).toHaveLength(3);
  expect(requests[0]).toMatchObject({
    msg: "POST /v1/messages 200",
    request_id: "trace-abc-123",
    method: "POST",
    status: 200,
    client: "ops",
    provider: "anthropic",
    model: "claude-3-opus-20240229",
    route: expect.stringContaining("static"),
    upstream_calls: 1,
    stream: true,
    input_tokens: 15,
    output_tokens: 13,
    cost_usd: 0.0012,
    cache: "miss",
    // Anthropic wire: Claude Code's request goes as sent.
    optimize: "off",
  });
  expect(typeof requests[0]?.latency_ms).toBe("number");
  expect(requests[2]).toMatchObject({ status: 401, rejected: "unauthenticated" });

  const bodies = lines.filter((l) => l.request_id === "trace-abc-123" && typeof l.request_body === "string");
  expect(bodies).toHaveLength(1);
  expect(String(bodies[0]?.request_body)).toContain("[REDACTED]");
  expect(String(bodies[0]?.request_body)).toContain("count please");
  expect(String(bodies[0]?.response_body)).toContain("1\\n2\\n3");
  expect((bodies[0]?.request_headers as Record<string, string>)["x-api-key"]).toBe("[REDACTED]");
});

test("a routing-file provider's key, echoed in an upstream's error text, never reaches the log", async () => {
  const routingKey = "rk-team-routing-key-4242-do-not-log";
  const echoing = startFakeUpstream(() =>
    new Response(JSON.stringify({ error: { type: "invalid_request_error", message: `Incorrect API key provided: ${routingKey}` } }), {
      status: 401,
      headers: { "content-type": "application/json" },
    }),
  );
  try {
    const dir = tempDir();
    const routing = join(dir, "routing.json");
    writeFileSync(
      routing,
      JSON.stringify({ providers: { team: { type: "openai", OPENAI_API_KEY: routingKey, OPENAI_ENDPOINT: `${echoing.url}/v1/chat/completions` } }, router: { default: "team" } }),
    );
    const gw = await spawnLynkr(lynkrFromSource, { ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_CONFIG: routing, LOG_LEVEL: "debug" }, dir);
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(401);
    await res.text();
    await Bun.sleep(100);
    expect(await gw.stop()).toBe(0);
    const output = gw.output();
    expect(output).toContain("Incorrect API key provided: [REDACTED]");
    expect(output).not.toContain(routingKey);
  } finally {
    echoing.stop();
  }
});

test("the pretty format writes each request as one line: status, provider/model, time, tokens, cost, cache, the failure's reason", async () => {
  const dir = tempDir();
  const gw = await spawnLynkr(lynkrFromSource, { ANTHROPIC_UPSTREAM_URL: upstream.url, LOG_FORMAT: "pretty", LYNKR_API_KEYS: `ops:${lynkrKey}` }, dir);
  const post = (payload: unknown) =>
    fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": lynkrKey, "x-request-id": "pretty-1" }, body: JSON.stringify(payload) });
  expect((await post({ model: "claude-3-opus-20240229", max_tokens: 64, stream: true, messages: [{ role: "user", content: "count" }] })).status).toBe(200);
  expect((await post({ model: "claude-3-opus-20240229", messages: "not a list" })).status).toBe(400);
  await Bun.sleep(100);
  await gw.stop();
  const lines = gw.output().split("\n");
  const answered = lines.filter((l) => l.includes("POST /v1/messages 200"));
  expect(answered).toHaveLength(1);
  expect(answered[0]).toMatch(/POST \/v1\/messages 200 anthropic\/claude-3-opus-20240229 [\d.]+ms \(first byte [\d.]+ms\) \d+→\d+ tok \$[\d.]+ cache=miss client=ops route="static[^"]*" id=pretty-1/);
  const refused = lines.filter((l) => l.includes("POST /v1/messages 400"));
  expect(refused).toHaveLength(1);
  expect(refused[0]).toContain("error=invalid_request_error: ");
  expect(refused[0]).toContain("messages");
  // Nothing of a request spills onto the next lines as an object dump.
  expect(lines.some((l) => /^\s*(request_id|latency_ms|provider):/.test(l))).toBe(false);
  expect(gw.output()).not.toContain(lynkrKey);
});
