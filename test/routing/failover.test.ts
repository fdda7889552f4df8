import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CircuitState, RoutingEventMap } from "../../src/routing/events.ts";
import type { Router } from "../../src/routing/router.ts";
import { anthropicSse, chunkedResponse, jsonResponse, readWire, sseEvents, startFakeUpstream, type FakeHandler, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { refusedUrl } from "../helpers/ports.ts";

// Fault injection: a primary upstream that refuses, hangs, fails with 5xx then recovers, rate
// limits, or dies mid-stream, and a backup that answers. Both are named instances of the
// Anthropic-wire provider from a LYNKR_CONFIG file, with lynkr's own key (shared breakers; the
// pass-through ones are in fault-matrix.test.ts). The SDK client retries by itself
// (x-stainless-retry-count), so lynkr never retries for it; `askRaw` is a client that does not.

let recorded: string;
let backup: FakeUpstream;
const running: { shutdown(): Promise<unknown> }[] = [];
const upstreams: FakeUpstream[] = [];

beforeAll(async () => {
  recorded = await readWire("upstream/anthropic/stream-text.sse");
  backup = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.shutdown()));
  await Promise.all(upstreams.splice(0).map((u) => u.stop()));
});

afterAll(() => backup.stop());

/** Each provider's shared circuit state, by provider name. */
function states(router: Router): Record<string, CircuitState> {
  return Object.fromEntries(router.circuits().flatMap(({ provider, credential, state }) => (credential === undefined ? [[provider, state]] : [])));
}

function primaryUpstream(handler: FakeHandler): FakeUpstream {
  const upstream = startFakeUpstream(handler);
  upstreams.push(upstream);
  return upstream;
}

interface Setup {
  primaryUrl: string;
  env?: Record<string, string>;
  primarySettings?: Record<string, string>;
  fallback?: boolean;
}

function gatewayWith({ primaryUrl, env = {}, primarySettings = {}, fallback = true }: Setup) {
  const dir = tempDir();
  const path = join(dir, "routing.json");
  writeFileSync(
    path,
    JSON.stringify({
      providers: {
        // A key goes only to the address it was given for: an instance at its own names its own.
        primary: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: primaryUrl, ANTHROPIC_UPSTREAM_API_KEY: "sk-lynkr", ...primarySettings },
        backup: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: backup.url },
      },
      router: { default: "primary" },
      ...(fallback ? { fallback: ["backup"] } : {}),
    }),
  );
  const gateway = startTestGateway({
    ANTHROPIC_UPSTREAM_URL: backup.url,
    ANTHROPIC_UPSTREAM_API_KEY: "sk-lynkr",
    LYNKR_CONFIG: path,
    API_RETRY_INITIAL_DELAY: "5",
    API_RETRY_MAX_DELAY: "2000",
    ...env,
  });
  running.push(gateway);
  const events: { [K in keyof RoutingEventMap]: RoutingEventMap[K][] } = { decision: [], fallback: [], retry: [], retry_denied: [], panic: [], circuit: [], answered: [] };
  const router = gateway.gateway.router;
  router.events.on("decision", (e) => events.decision.push(e));
  router.events.on("fallback", (e) => events.fallback.push(e));
  router.events.on("retry", (e) => events.retry.push(e));
  router.events.on("circuit", (e) => events.circuit.push(e));
  router.events.on("answered", (e) => events.answered.push(e));
  router.events.on("panic", (e) => events.panic.push(e));
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  return { gateway, client, events };
}

const ask = (client: Anthropic) =>
  client.messages.create({ model: "claude-x", max_tokens: 20, messages: [{ role: "user", content: "count" }] }).withResponse();

/** The same request from a client that does not retry by itself (no x-stainless-retry-count). */
const askRaw = (gateway: { url: string }) =>
  fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-x", max_tokens: 20, messages: [{ role: "user", content: "count" }] }),
  });

test("a primary that refuses connections: the backup answers at once, without retries, and says why", async () => {
  const { client, events } = gatewayWith({ primaryUrl: refusedUrl() });
  const before = backup.received.length;
  const { data, response } = await ask(client);
  expect(data.content[0]?.type === "text" && data.content[0].text).toBe("1\n2\n3\n4\n5");
  expect(backup.received.length).toBe(before + 1);
  expect(response.headers.get("x-lynkr-provider")).toBe("backup");
  expect(response.headers.get("x-lynkr-route")).toBe("rule default; fallback: primary connection refused (HTTP 502) -> backup");
  expect(events.retry).toEqual([]);
  expect(events.fallback).toEqual([{ requestId: expect.any(String), from: "primary", to: "backup", reason: "connection_refused", status: 502 }]);
  expect(events.answered[0]).toMatchObject({ provider: "backup", attempts: 2, fellBack: true });
});

test("a primary that hangs past its timeout: the backup answers without waiting again; alone, it is retried unless the client retries", async () => {
  const primary = primaryUpstream(async () => {
    await Bun.sleep(2_000);
    return chunkedResponse(sseEvents(recorded));
  });
  const setup = { primaryUrl: primary.url, primarySettings: { ANTHROPIC_UPSTREAM_TIMEOUT_MS: "150" }, env: { API_RETRY_MAX_RETRIES: "1" } };
  const { client, events } = gatewayWith(setup);
  const { response } = await ask(client);
  expect(response.headers.get("x-lynkr-provider")).toBe("backup");
  expect(response.headers.get("x-lynkr-route")).toBe("rule default; fallback: primary timeout (HTTP 504) -> backup");
  expect(primary.received.length).toBe(1);
  expect(events.retry).toEqual([]);
  expect(events.fallback.map((e) => e.reason)).toEqual(["timeout"]);

  const alone = gatewayWith({ ...setup, fallback: false });
  const error = await ask(alone.client).catch((e: unknown) => e);
  expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(504);
  expect(String(error)).toContain("did not answer within 150 ms");
  // The SDK retries by itself: one call for its one attempt.
  expect(primary.received.length).toBe(2);
  expect(alone.events.retry).toEqual([]);

  const raw = await askRaw(alone.gateway);
  expect(raw.status).toBe(504);
  expect(primary.received.length).toBe(4);
  expect(alone.events.retry.map((e) => e.reason)).toEqual(["timeout"]);
});

test("500s open the breaker (no more calls), a half-open probe after the timeout, then it closes", async () => {
  let healthy = false;
  const primary = primaryUpstream(() =>
    healthy ? chunkedResponse(sseEvents(recorded)) : jsonResponse({ type: "error", error: { type: "api_error", message: "boom" } }, 500),
  );
  const { client, events, gateway } = gatewayWith({
    primaryUrl: primary.url,
    env: {
      API_RETRY_MAX_RETRIES: "0",
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: "2",
      CIRCUIT_BREAKER_SUCCESS_THRESHOLD: "2",
      CIRCUIT_BREAKER_TIMEOUT: "300",
    },
  });
  const served = async () => (await ask(client)).response.headers.get("x-lynkr-provider");
  const router = gateway.gateway.router;

  expect(await served()).toBe("backup");
  expect(await served()).toBe("backup");
  expect(primary.received.length).toBe(2);
  expect(events.circuit).toEqual([{ provider: "primary", from: "closed", to: "open" }]);
  expect(states(router)).toMatchObject({ primary: "open", backup: "closed" });

  // Open: the primary is not even called.
  const open = await ask(client);
  expect(open.response.headers.get("x-lynkr-provider")).toBe("backup");
  expect(open.response.headers.get("x-lynkr-route")).toBe("rule default; fallback: primary circuit open -> backup");
  expect(primary.received.length).toBe(2);

  healthy = true;
  await Bun.sleep(350);
  expect(await served()).toBe("primary");
  expect(events.circuit.at(-1)).toEqual({ provider: "primary", from: "open", to: "half_open" });
  expect(await served()).toBe("primary");
  expect(events.circuit.at(-1)).toEqual({ provider: "primary", from: "half_open", to: "closed" });
  expect(primary.received.length).toBe(4);
});

test("a failed half-open probe opens the circuit again", async () => {
  const primary = primaryUpstream(() => new Response("bad gateway", { status: 502 }));
  const { client, events } = gatewayWith({
    primaryUrl: primary.url,
    env: { API_RETRY_MAX_RETRIES: "0", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1", CIRCUIT_BREAKER_TIMEOUT: "100" },
  });
  await ask(client);
  await Bun.sleep(150);
  await ask(client);
  expect(events.circuit.map((e) => `${e.from}>${e.to}`)).toEqual(["closed>open", "open>half_open", "half_open>open"]);
  expect(primary.received.length).toBe(2);
});

test("429 with retry-after, to a client that does not retry: the same provider is asked again after exactly that wait", async () => {
  let calls = 0;
  const primary = primaryUpstream(() =>
    calls++ === 0
      ? jsonResponse({ type: "error", error: { type: "rate_limit_error", message: "slow down" } }, 429, { "retry-after": "1" })
      : chunkedResponse(sseEvents(recorded)),
  );
  const { gateway, events } = gatewayWith({ primaryUrl: primary.url, fallback: false });
  const response = await askRaw(gateway);
  expect(response.headers.get("x-lynkr-provider")).toBe("primary");
  expect(events.retry).toEqual([{ requestId: expect.any(String), provider: "primary", attempt: 1, delayMs: 1000, reason: "rate_limited", status: 429 }]);
  expect(primary.received.length).toBe(2);
});

test("429 asking for longer than API_RETRY_MAX_DELAY fails over; with nothing left the client gets the 429 and its retry-after", async () => {
  const limited = () => jsonResponse({ type: "error", error: { type: "rate_limit_error", message: "quota" } }, 429, { "retry-after": "30" });
  const primary = primaryUpstream(limited);
  const withBackup = gatewayWith({ primaryUrl: primary.url });
  expect((await ask(withBackup.client)).response.headers.get("x-lynkr-provider")).toBe("backup");
  expect(withBackup.events.retry).toEqual([]);

  const alone = gatewayWith({ primaryUrl: primary.url, fallback: false });
  const error = await ask(alone.client).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Anthropic.RateLimitError);
  expect((error as InstanceType<typeof Anthropic.RateLimitError>).headers?.get("retry-after")).toBe("30");
  expect((error as InstanceType<typeof Anthropic.RateLimitError>).message).toContain("quota");
});

test("a stream that dies after the first byte is not replayed elsewhere: it ends with an error event", async () => {
  const events = sseEvents(recorded);
  const primary = primaryUpstream(() => chunkedResponse(events, { dieAfter: 3, delayMs: 20 }));
  const { client, events: seen } = gatewayWith({ primaryUrl: primary.url });
  const before = backup.received.length;
  const stream = client.messages.stream({ model: "claude-x", max_tokens: 20, messages: [{ role: "user", content: "count" }] });
  const error = await stream.finalMessage().catch((e: unknown) => e);
  expect(String(error)).toContain("connection lost mid-stream");
  expect(backup.received.length).toBe(before);
  expect(seen.fallback).toEqual([]);
});

test("a 400 is the request's fault: no retry, no fallback, the upstream's words", async () => {
  const primary = primaryUpstream(() => jsonResponse({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: too large" } }, 400));
  const { client, events } = gatewayWith({ primaryUrl: primary.url });
  const before = backup.received.length;
  const error = await ask(client).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Anthropic.BadRequestError);
  expect(String(error)).toContain("max_tokens: too large");
  expect((error as InstanceType<typeof Anthropic.BadRequestError>).headers?.get("x-lynkr-route")).toBe("rule default");
  expect(primary.received.length).toBe(1);
  expect(backup.received.length).toBe(before);
  expect(events.retry).toEqual([]);
});

test("FALLBACK_ENABLED=false: a refused primary is retried, then reported; with its circuit open it is still called (panic routing)", async () => {
  const { gateway, client, events } = gatewayWith({
    primaryUrl: refusedUrl(),
    env: { FALLBACK_ENABLED: "false", API_RETRY_MAX_RETRIES: "1", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "2", CIRCUIT_BREAKER_TIMEOUT: "60000" },
  });
  const first = await askRaw(gateway);
  expect(first.status).toBe(502);
  expect(JSON.stringify(await first.json())).toMatch(/connection refused|ECONNREFUSED/);
  expect(first.headers.get("x-lynkr-route")).toBe("rule default");
  expect(events.retry.map((e) => e.reason)).toEqual(["connection_refused"]);
  expect(states(gateway.gateway.router).primary).toBe("open");

  // No lynkr-made "circuit open" answer: the only provider there is gets the request anyway.
  const open = await ask(client).catch((e: unknown) => e);
  expect((open as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
  expect(String(open)).toMatch(/connection refused|ECONNREFUSED/);
  expect(String(open)).not.toContain("circuit");
  expect((open as InstanceType<typeof Anthropic.APIError>).headers?.get("x-lynkr-route")).toMatch(
    /^rule default; panic: every circuit left is open, primary \(open \d+s\) called anyway$/,
  );
  expect(events.panic).toEqual([{ requestId: expect.any(String), provider: "primary" }]);
});

test("streaming clients get the same fallback, and the headers say so", async () => {
  const { gateway } = gatewayWith({ primaryUrl: refusedUrl() });
  const res = await fetch(`${gateway.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-x", max_tokens: 20, stream: true, messages: [{ role: "user", content: "count" }] }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-lynkr-provider")).toBe("backup");
  expect(await res.text()).toBe(recorded);
});

test("hybrid: an Ollama model without tools is passed over for a request with tools", async () => {
  const ollama = primaryUpstream((req) => {
    if (req.url.pathname === "/api/show") return jsonResponse({ capabilities: ["completion"] });
    return jsonResponse({ error: "unexpected" }, 500);
  });
  const cloud = primaryUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "claude-x"))));
  const gateway = startTestGateway({
    PREFER_OLLAMA: "true",
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: cloud.url,
    OLLAMA_ENDPOINT: ollama.url,
  });
  running.push(gateway);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  const { response } = await client.messages
    .create({ model: "claude-x", max_tokens: 20, tools: [{ name: "Bash", input_schema: { type: "object" } }], messages: [{ role: "user", content: "ls" }] })
    .withResponse();
  expect(response.headers.get("x-lynkr-provider")).toBe("anthropic");
  expect(response.headers.get("x-lynkr-route")).toBe("hybrid: 1 tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=3: ollama; fallback: ollama no tool support -> anthropic");
  expect(ollama.received.map((r) => r.url.pathname)).toEqual(["/api/show"]);
});

test("503s are retried on the same provider with backoff until it answers, for a client that does not retry", async () => {
  let calls = 0;
  const primary = primaryUpstream(() =>
    ++calls <= 2 ? jsonResponse({ type: "error", error: { type: "overloaded_error", message: "busy" } }, 503) : chunkedResponse(sseEvents(recorded)),
  );
  const { gateway, events } = gatewayWith({ primaryUrl: primary.url });
  const response = await askRaw(gateway);
  expect(response.headers.get("x-lynkr-provider")).toBe("primary");
  expect(events.retry.map((e) => [e.attempt, e.reason, e.status])).toEqual([
    [1, "server_error", 503],
    [2, "server_error", 503],
  ]);
  // Full jitter below API_RETRY_INITIAL_DELAY·2^n (5 ms, then 10 ms).
  expect(events.retry.every((e, i) => e.delayMs >= 0 && e.delayMs < 5 * 2 ** i)).toBe(true);
  expect(events.fallback).toEqual([]);
});

test("hybrid: a prompt too long for Ollama's window goes to the cloud provider, even with FALLBACK_ENABLED=false", async () => {
  const ollama = primaryUpstream((req) => (req.url.pathname === "/api/show" ? jsonResponse({ capabilities: ["completion", "tools"] }) : jsonResponse({ error: "unexpected" }, 500)));
  const cloud = primaryUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "claude-x"))));
  const gateway = startTestGateway({
    PREFER_OLLAMA: "true",
    FALLBACK_ENABLED: "false",
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: cloud.url,
    OLLAMA_ENDPOINT: ollama.url,
    OLLAMA_NUM_CTX: "1024",
  });
  running.push(gateway);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  const { response } = await client.messages
    .create({ model: "claude-x", max_tokens: 20, messages: [{ role: "user", content: "lorem ipsum dolor ".repeat(1000) }] })
    .withResponse();
  expect(response.headers.get("x-lynkr-provider")).toBe("anthropic");
  expect(response.headers.get("x-lynkr-route")).toBe("hybrid: 0 tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=3: ollama; fallback: ollama context too long (HTTP 400) -> anthropic");
  expect(ollama.received.map((r) => r.url.pathname)).toEqual(["/api/show"]);
  expect(states(gateway.gateway.router).ollama).toBe("closed");
});

test("hybrid: an Ollama model that is not pulled (404) hands the request to the cloud provider", async () => {
  const ollama = primaryUpstream(() => jsonResponse({ error: "model 'qwen2.5-coder:7b' not found" }, 404));
  const cloud = primaryUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "claude-x"))));
  const gateway = startTestGateway({ PREFER_OLLAMA: "true", MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: cloud.url, OLLAMA_ENDPOINT: ollama.url });
  running.push(gateway);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  const { response } = await client.messages.create({ model: "claude-x", max_tokens: 20, messages: [{ role: "user", content: "hi" }] }).withResponse();
  expect(response.headers.get("x-lynkr-provider")).toBe("anthropic");
  expect(response.headers.get("x-lynkr-route")).toBe("hybrid: 0 tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=3: ollama; fallback: ollama not found (HTTP 404) -> anthropic");
  // Not the provider's outage: no retries, and its circuit stays closed.
  expect(ollama.received.length).toBe(1);
  expect(states(gateway.gateway.router).ollama).toBe("closed");
});

test("when every provider fails, the client gets the last error, and x-lynkr-route tells the way it went", async () => {
  const failing = startFakeUpstream(() => jsonResponse({ type: "error", error: { type: "api_error", message: "backup down too" } }, 500));
  upstreams.push(failing);
  const dir = tempDir();
  const path = join(dir, "routing.json");
  writeFileSync(
    path,
    JSON.stringify({
      providers: { primary: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: refusedUrl() }, spare: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: failing.url } },
      router: { default: "primary" },
      fallback: ["spare"],
    }),
  );
  const gateway = startTestGateway({ LYNKR_CONFIG: path, API_RETRY_MAX_RETRIES: "1", API_RETRY_INITIAL_DELAY: "1" });
  running.push(gateway);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  const error = await ask(client).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Anthropic.InternalServerError);
  expect(String(error)).toContain("backup down too");
  expect((error as InstanceType<typeof Anthropic.APIError>).headers?.get("x-lynkr-route")).toBe(
    "rule default; fallback: primary connection refused (HTTP 502) -> spare",
  );
  // The SDK retries by itself: each provider once.
  expect(failing.received.length).toBe(1);
});
