import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { turnEvents } from "../helpers/scripted-anthropic.ts";
import { anthropicSse, chunkedResponse, jsonResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { refusedUrl } from "../helpers/ports.ts";
import pkg from "../../package.json" with { type: "json" };
import { configFingerprint } from "../../src/config/fingerprint.ts";
import { loadConfig } from "../../src/config/load.ts";

let upstream: FakeUpstream;

beforeAll(() => {
  upstream = startFakeUpstream((req) =>
    req.url.pathname === "/v1/models"
      ? jsonResponse({ data: [{ id: "claude-x", type: "model", display_name: "X", created_at: "2025-01-01T00:00:00Z" }], has_more: false })
      : chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "hi" }] }, "claude-x")), { delayMs: 100 }),
  );
});
afterAll(() => upstream.stop());

type Ready = { status: string; checks: Record<string, string>; providers?: { name: string; ok: boolean; circuit: string }[] };

test("ready reports database, shutdown and memory; live is plain ok", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url });
  try {
    expect(await (await fetch(`${gateway.url}/health/live`)).json()).toEqual({ status: "ok" });
    const res = await fetch(`${gateway.url}/health/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Ready;
    expect(body.status).toBe("ready");
    expect(body.checks).toEqual({ database: "ok", shutdown: "ok", memory: "ok" });
    expect(body.providers).toBeUndefined();
  } finally {
    await gateway.shutdown();
  }
});

test("deep=true asks each provider, and reuses the answer for HEALTH_DEEP_CACHE_MS", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant-upstream-key-123" });
  try {
    const before = upstream.received.filter((r) => r.url.pathname === "/v1/models").length;
    const body = (await (await fetch(`${gateway.url}/health/ready?deep=true`)).json()) as Ready;
    expect(body.checks.providers).toBe("ok");
    expect(body.providers).toEqual([expect.objectContaining({ name: "anthropic", ok: true, circuit: "closed" })]);
    await fetch(`${gateway.url}/health/ready?deep=true`);
    expect(upstream.received.filter((r) => r.url.pathname === "/v1/models").length - before).toBe(1);
    expect(JSON.stringify(body)).not.toContain("sk-ant-upstream-key-123");
  } finally {
    await gateway.shutdown();
  }
});

test("deep=true is 503 when no provider can be reached", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: refusedUrl(), HEALTH_DEEP_CACHE_MS: "0" });
  try {
    const res = await fetch(`${gateway.url}/health/ready?deep=true`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as Ready;
    expect(body.checks.providers).toBe("none reachable");
    expect(body.providers?.[0]?.ok).toBe(false);
    // Plain readiness does not depend on upstreams.
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
  } finally {
    await gateway.shutdown();
  }
});

test("deep=true checks the providers the gateway started with, whatever the routing file says now", async () => {
  const path = join(tempDir(), "routing.json");
  const writeRouting = (name: string, url: string) =>
    writeFileSync(path, JSON.stringify({ providers: { [name]: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: url } } }));
  writeRouting("box", upstream.url);
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_CONFIG: path });
  try {
    writeRouting("other", refusedUrl());
    const res = await fetch(`${gateway.url}/health/ready?deep=true`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Ready;
    expect(body.providers?.map((p) => [p.name, p.ok])).toEqual([
      ["anthropic", true],
      ["box", true],
    ]);
  } finally {
    await gateway.shutdown();
  }
});

test("ready turns 503 the moment shutdown begins, while an in-flight stream is still finishing", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url });
  const app = gateway.gateway.http;
  const stream = await fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-x", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  const stopping = gateway.shutdown();
  const res = await app.request("/health/ready");
  expect(res.status).toBe(503);
  expect(((await res.json()) as Ready).checks.shutdown).toBe("draining");
  expect(await stream.text()).toContain("event: message_stop");
  expect(await stopping).toEqual({ drained: true });
});

test("a body over MAX_REQUEST_BODY_BYTES gets 413 request_too_large", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, MAX_REQUEST_BODY_BYTES: "2048" });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-x", max_tokens: 8, messages: [{ role: "user", content: "x".repeat(4096) }] }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("request_too_large");
    expect(res.headers.get("x-should-retry")).toBe("false");
  } finally {
    await gateway.shutdown();
  }
});

test("with LYNKR_API_KEYS, deep=true without a key gives the verdict only: no provider names, no error text", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: refusedUrl(), HEALTH_DEEP_CACHE_MS: "0", LYNKR_API_KEYS: "ops:lynkr-health-key-7781" });
  try {
    const anonymous = await fetch(`${gateway.url}/health/ready?deep=true`);
    expect(anonymous.status).toBe(503);
    const text = await anonymous.text();
    expect((JSON.parse(text) as Ready).checks.providers).toBe("none reachable");
    expect(text).not.toContain("anthropic");
    expect(text).not.toContain("providers\":[");
    for (const headers of [{ "x-api-key": "wrong-key-0000" }, { authorization: "Bearer wrong-key-0000" }] as Record<string, string>[]) {
      expect(await (await fetch(`${gateway.url}/health/ready?deep=true`, { headers })).text()).not.toContain("anthropic");
    }
    const keyed = (await (await fetch(`${gateway.url}/health/ready?deep=true`, { headers: { "x-api-key": "lynkr-health-key-7781" } })).json()) as Ready;
    expect(keyed.providers?.[0]).toMatchObject({ name: "anthropic", ok: false });
  } finally {
    await gateway.shutdown();
  }
});

test("ready says who answers: lynkr, its version, a fingerprint of its configuration, whether keys are needed", async () => {
  const a = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url });
  const elsewhere = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LOG_LEVEL: "silent" });
  const other = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, MODEL_DEFAULT: "claude-other", LYNKR_API_KEYS: "k:health-key-1234" });
  try {
    type Identity = { service: string; version: string; config: string; auth: string };
    const [ia, ielsewhere, iother] = (await Promise.all([a, elsewhere, other].map(async (g) => (await fetch(`${g.url}/health/ready`)).json()))) as Identity[];
    expect(ia).toMatchObject({ service: "lynkr", version: pkg.version, auth: "none" });
    expect(ia?.config).toMatch(/^[0-9a-f]{16}$/);
    // Each test gateway has its own database path (a temp folder): a configuration of its own.
    expect(ielsewhere?.config).not.toBe(ia?.config);
    expect(iother).toMatchObject({ service: "lynkr", auth: "keys" });
    expect(iother?.config).not.toBe(ia?.config);
  } finally {
    await Promise.all([a, elsewhere, other].map((g) => g.shutdown()));
  }
});

test("the configuration fingerprint ignores where and how a gateway logs and listens, not what it does", () => {
  const base = loadConfig({ env: { HOME: "/h", PORT: "8080" }, cwd: "/nowhere" });
  const fp = configFingerprint(base);
  expect(configFingerprint(loadConfig({ env: { HOME: "/h", PORT: "9090", HOST: "localhost", LOG_FORMAT: "json", LOG_LEVEL: "debug" }, cwd: "/nowhere" }))).toBe(fp);
  expect(configFingerprint(loadConfig({ env: { HOME: "/h", MODEL_DEFAULT: "x" }, cwd: "/nowhere" }))).not.toBe(fp);
  expect(configFingerprint(loadConfig({ env: { HOME: "/h", ANTHROPIC_UPSTREAM_API_KEY: "sk-a-different-one" }, cwd: "/nowhere" }))).not.toBe(fp);
});
