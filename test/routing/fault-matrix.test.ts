import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chunkedResponse, jsonResponse, readWire, sseEvents, startFakeUpstream, type FakeHandler, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { refusedUrl } from "../helpers/ports.ts";

// Every way an upstream fails, each with one provider and with a backup behind it: how many calls
// the upstream got, what the client got (status, Anthropic error type, message, headers), and the
// breaker afterwards. The circuit opens at the first fault (threshold 1), so the second request
// of each case shows what an open circuit does: with a backup it is skipped without a call; alone
// it is still called (panic routing) and its own answer goes back, never a lynkr-made one.
// The SDK client (maxRetries: 0) sends x-stainless-retry-count like Claude Code: it retries by
// itself, so lynkr makes one call per provider per attempt. Raw fetch is a client that does not.

const timeoutMs = 150;
let recorded: string;
let overloaded: unknown;
let rateLimited: unknown;
let backup: FakeUpstream;

beforeAll(async () => {
  recorded = await readWire("upstream/anthropic/stream-text.sse");
  overloaded = JSON.parse(await readWire("upstream/anthropic/error-529-overloaded.json"));
  rateLimited = JSON.parse(await readWire("upstream/anthropic/error-429-rate-limit.json"));
  backup = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
});

afterAll(() => backup.stop());

interface Expected {
  status: number;
  type: string;
  message: RegExp;
  headers?: Record<string, string | null>;
}

interface Fault {
  name: string;
  /** Absent: the primary's address refuses connections. */
  handler?: FakeHandler;
  /** What a lone provider's client gets, at once and again once the circuit is open. */
  alone: Expected;
  /** The fault comes after the first event: too late to hand the request to the backup. */
  afterFirstByte?: boolean;
}

const faults: Fault[] = [
  { name: "connection refused", alone: { status: 502, type: "api_error", message: /unreachable: connection refused/ } },
  {
    name: "hung before headers",
    handler: async () => {
      await Bun.sleep(timeoutMs * 6);
      return chunkedResponse(sseEvents(recorded));
    },
    alone: { status: 504, type: "api_error", message: new RegExp(`did not answer within ${timeoutMs} ms`) },
  },
  {
    name: "hung mid-stream",
    handler: () => stalledResponse(sseEvents(recorded).slice(0, 3)),
    alone: { status: 504, type: "api_error", message: new RegExp(`sent nothing for ${timeoutMs} ms mid-stream`) },
    afterFirstByte: true,
  },
  {
    name: "5xx",
    handler: () => jsonResponse({ type: "error", error: { type: "api_error", message: "Internal server error" } }, 500),
    alone: { status: 500, type: "api_error", message: /^Internal server error$/ },
  },
  {
    name: "529 forever",
    handler: () => jsonResponse(overloaded, 529),
    alone: { status: 529, type: "overloaded_error", message: /^Overloaded$/, headers: { "x-should-retry": null } },
  },
  {
    name: "429 with retry-after",
    handler: () => jsonResponse(rateLimited, 429, { "retry-after": "7" }),
    alone: { status: 429, type: "rate_limit_error", message: /^This request would exceed the rate limit/, headers: { "retry-after": "7" } },
  },
  {
    name: "429 without retry-after",
    handler: () => jsonResponse(rateLimited, 429),
    alone: { status: 429, type: "rate_limit_error", message: /^This request would exceed the rate limit/, headers: { "retry-after": null } },
  },
  {
    name: "x-should-retry: false",
    handler: () => jsonResponse(overloaded, 529, { "x-should-retry": "false", "retry-after": "30" }),
    alone: { status: 529, type: "overloaded_error", message: /^Overloaded$/, headers: { "x-should-retry": "false", "retry-after": "30" } },
  },
  {
    name: "death mid-stream",
    handler: () => chunkedResponse(sseEvents(recorded), { dieAfter: 3, delayMs: 10 }),
    alone: { status: 500, type: "api_error", message: /connection lost mid-stream/ },
    afterFirstByte: true,
  },
  {
    name: "malformed JSON in a chunk",
    handler: () => chunkedResponse(["event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\n\n", ...sseEvents(recorded)]),
    alone: { status: 500, type: "api_error", message: /sent an event that is not JSON/ },
  },
];

/** Sends `chunks`, then nothing more, with the connection left open (until the reader goes). */
function stalledResponse(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
}

/** Stops each case's gateway and fake upstream. */
const running: (() => Promise<void>)[] = [];

interface Setup {
  url: string;
  client: Anthropic;
  /**
   * Calls the primary got once lynkr recorded its `requests` requests so far: its fake's count,
   * checked against what lynkr's metrics counted minus the backup's (all a refused address has).
   */
  primaryCalls(requests: number): Promise<number>;
  /** Shared circuit states by provider, from /metrics/circuit-breakers. */
  circuits(): Promise<Record<string, string>>;
}

function setup(fault: Fault, withBackup: boolean, env: Record<string, string> = {}): Setup {
  const primary = fault.handler ? startFakeUpstream(fault.handler) : undefined;
  const path = join(tempDir(), "routing.json");
  writeFileSync(
    path,
    JSON.stringify({
      providers: {
        // A key goes only to the address it was given for: an instance at its own names its own.
        primary: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: primary?.url ?? refusedUrl(), ANTHROPIC_UPSTREAM_API_KEY: "sk-lynkr", ANTHROPIC_UPSTREAM_TIMEOUT_MS: String(timeoutMs) },
        backup: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: backup.url },
      },
      router: { default: "primary" },
      ...(withBackup ? { fallback: ["backup"] } : {}),
    }),
  );
  const gateway = startTestGateway({
    ANTHROPIC_UPSTREAM_URL: backup.url,
    // lynkr's own key: one shared breaker per provider (pass-through has its own tests below).
    ANTHROPIC_UPSTREAM_API_KEY: "sk-lynkr",
    LYNKR_CONFIG: path,
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1",
    CIRCUIT_BREAKER_TIMEOUT: "60000",
    API_RETRY_MAX_RETRIES: "2",
    API_RETRY_INITIAL_DELAY: "1",
    API_RETRY_MAX_DELAY: "100",
    ...env,
  });
  const backupBefore = backup.received.length;
  running.push(async () => {
    await gateway.shutdown();
    await primary?.stop();
  });
  return {
    url: gateway.url,
    client: new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 }),
    primaryCalls: async (requests) => {
      const counted = await upstreamCalls(gateway.url, requests);
      const byMetrics = counted - (backup.received.length - backupBefore);
      if (primary) expect(primary.received.length).toBe(byMetrics);
      return byMetrics;
    },
    circuits: async () => {
      const body = (await (await fetch(`${gateway.url}/metrics/circuit-breakers`)).json()) as { circuit_breakers: { provider: string; credential?: string; state: string }[] };
      return Object.fromEntries(body.circuit_breakers.filter((c) => c.credential === undefined).map((c) => [c.provider, c.state]));
    },
  };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((stop) => stop()));
});

/**
 * Upstream calls lynkr counted (lynkr_upstream_calls_per_request) over its first `requests`
 * requests, once all are recorded (metrics are written just after each answer went out).
 */
async function upstreamCalls(url: string, requests: number): Promise<number> {
  const read = async () => {
    const text = await (await fetch(`${url}/metrics/prometheus`)).text();
    const total = (suffix: string) =>
      [...text.matchAll(new RegExp(`^lynkr_upstream_calls_per_request_${suffix}\\{[^}]*\\} (\\S+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
    return { calls: total("sum"), recorded: total("count") };
  };
  for (let i = 0; i < 100; i++) {
    const { calls, recorded } = await read();
    if (recorded === requests) return calls;
    await Bun.sleep(20);
  }
  throw new Error("lynkr did not record its upstream calls");
}

type SdkError = InstanceType<typeof Anthropic.APIError>;

async function failed(promise: Promise<unknown>): Promise<SdkError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Anthropic.APIError);
  return error as SdkError;
}

function expectError(error: SdkError, expected: Expected): void {
  expect(error.status).toBe(expected.status);
  const body = error.error as { type?: string; error?: { type?: string; message?: string } };
  expect(body.type).toBe("error");
  expect(body.error?.type).toBe(expected.type);
  expect(body.error?.message ?? "").toMatch(expected.message);
  // lynkr's own account of the way it went is in a header, never in the message.
  expect(body.error?.message ?? "").not.toMatch(/circuit|lynkr|attempt/i);
  for (const [name, value] of Object.entries(expected.headers ?? {})) expect(error.headers?.get(name) ?? null).toBe(value);
}

const ask = (client: Anthropic) =>
  client.messages.create({ model: "claude-x", max_tokens: 20, messages: [{ role: "user", content: "count" }] }).withResponse();

describe.each(faults)("$name", (fault) => {
  test("one provider: one call per client attempt, the upstream's answer, and with the circuit open it is still called", async () => {
    const s = setup(fault, false);
    const first = await failed(ask(s.client));
    expectError(first, fault.alone);
    expect(first.headers?.get("x-lynkr-route")).toBe("rule default");
    expect(await s.primaryCalls(1)).toBe(1);
    expect(await s.circuits()).toMatchObject({ primary: "open" });

    const again = await failed(ask(s.client));
    expectError(again, fault.alone);
    expect(again.headers?.get("x-lynkr-route")).toMatch(/^rule default; panic: every circuit left is open, primary \(open \d+s\) called anyway$/);
    expect(await s.primaryCalls(2)).toBe(2);
    expect(await s.circuits()).toMatchObject({ primary: "open" });
  });

  test("a backup behind it: failover before the first byte, then the open circuit is skipped without a call", async () => {
    const s = setup(fault, true);
    const backupBefore = backup.received.length;
    if (fault.afterFirstByte) {
      // Too late to ask another provider: the client gets the failure, the backup nothing.
      expectError(await failed(ask(s.client)), fault.alone);
      expect(backup.received.length).toBe(backupBefore);
    } else {
      const { data, response } = await ask(s.client);
      expect(data.content[0]?.type === "text" && data.content[0].text).toBe("1\n2\n3\n4\n5");
      expect(response.headers.get("x-lynkr-provider")).toBe("backup");
      expect(response.headers.get("x-lynkr-route")).toStartWith("rule default; fallback: primary ");
      expect(backup.received.length).toBe(backupBefore + 1);
    }
    expect(await s.primaryCalls(1)).toBe(1);
    expect(await s.circuits()).toMatchObject({ primary: "open", backup: "closed" });

    const { response } = await ask(s.client);
    expect(response.headers.get("x-lynkr-provider")).toBe("backup");
    expect(response.headers.get("x-lynkr-route")).toBe("rule default; fallback: primary circuit open -> backup");
    expect(await s.primaryCalls(2)).toBe(1);
  });
});

/** The request from a client that does not retry by itself (no x-stainless-retry-count). */
const askRaw = (url: string) =>
  fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k" },
    body: JSON.stringify({ model: "claude-x", max_tokens: 20, messages: [{ role: "user", content: "count" }] }),
  });

const byName = (name: string) => faults.find((f) => f.name === name) ?? faults[0]!;

describe("a client that does not retry by itself", () => {
  // API_RETRY_MAX_RETRIES=2: three calls at most; the breaker stays closed meanwhile (threshold 5).
  const cases: [string, number, Record<string, string | null>][] = [
    ["connection refused", 3, {}],
    ["5xx", 3, {}],
    ["529 forever", 3, {}],
    ["429 without retry-after", 3, { "retry-after": null }],
    // Longer than API_RETRY_MAX_DELAY: the client gets the wait to do, rather than lynkr holding the request.
    ["429 with retry-after", 1, { "retry-after": "7" }],
    ["x-should-retry: false", 1, { "x-should-retry": "false", "retry-after": "30" }],
  ];
  for (const [name, calls, headers] of cases) {
    test(`${name}: ${calls} upstream call(s), then the upstream's own answer`, async () => {
      const fault = byName(name);
      const s = setup(fault, false, { CIRCUIT_BREAKER_FAILURE_THRESHOLD: "5" });
      const res = await askRaw(s.url);
      expect(res.status).toBe(fault.alone.status);
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe(fault.alone.type);
      expect(body.error.message).toMatch(fault.alone.message);
      for (const [header, value] of Object.entries(headers)) expect(res.headers.get(header)).toBe(value);
      expect(await s.primaryCalls(1)).toBe(calls);
      expect(await s.circuits()).toMatchObject({ primary: "closed" });
    });
  }

  test("a spent retry budget: no retry, the upstream's answer at once, and the metrics say why", async () => {
    const s = setup(byName("5xx"), false, { CIRCUIT_BREAKER_FAILURE_THRESHOLD: "5", RETRY_BUDGET_PERCENT: "0", RETRY_BUDGET_MIN: "0" });
    const res = await askRaw(s.url);
    expect(res.status).toBe(500);
    expect(await s.primaryCalls(1)).toBe(1);
    const metrics = await (await fetch(`${s.url}/metrics/prometheus`)).text();
    expect(metrics).toContain(`lynkr_routing_retries_denied_total{provider="primary",reason="server_error"} 1`);
  });
});

describe("credential pass-through (no ANTHROPIC_UPSTREAM_API_KEY)", () => {
  test("one account's 429s and 401s open only that account's circuit; everyone else's calls go on", async () => {
    const upstream = startFakeUpstream((req) => {
      const key = req.headers.get("x-api-key") ?? req.headers.get("authorization")?.replace(/^Bearer /, "");
      if (key === "sk-alice") return jsonResponse(rateLimited, 429, { "retry-after": "5" });
      if (key === "sk-mallory") return jsonResponse({ type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }, 401);
      return chunkedResponse(sseEvents(recorded));
    });
    // The fake upstream stands in for api.anthropic.com, where clients' own keys are meant to go.
    const gateway = startTestGateway({ MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1" });
    try {
      const as = (apiKey: string) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 });
      const limited = await failed(ask(as("sk-alice")));
      expectError(limited, { status: 429, type: "rate_limit_error", message: /^This request would exceed the rate limit/, headers: { "retry-after": "5" } });
      const denied = await failed(ask(as("sk-mallory")));
      expect(denied.status).toBe(401);
      const { response } = await ask(as("sk-bob"));
      expect(response.status).toBe(200);
      expect(upstream.received.length).toBe(3);

      const body = (await (await fetch(`${gateway.url}/metrics/circuit-breakers`)).json()) as { circuit_breakers: { provider: string; credential?: string; state: string }[] };
      const { circuit_breakers: circuits } = body;
      expect(circuits.find((c) => c.provider === "anthropic" && c.credential === undefined)?.state).toBe("closed");
      expect(circuits.filter((c) => c.credential !== undefined).map((c) => c.state).sort()).toEqual(["closed", "closed", "open"]);
      expect(JSON.stringify(body)).not.toContain("sk-");

      // Alice's own circuit is open and there is no other provider: her upstream still decides.
      const again = await failed(ask(as("sk-alice")));
      expect(again.status).toBe(429);
      expect(again.headers?.get("x-lynkr-route")).toContain("panic");
      expect(upstream.received.length).toBe(4);
    } finally {
      await gateway.shutdown();
      await upstream.stop();
    }
  });
});

test("every provider in the chain open: the one open the longest is called, and a failure sends it to the back", async () => {
  const failing = (message: string) => startFakeUpstream(() => jsonResponse({ type: "error", error: { type: "api_error", message } }, 500));
  const first = failing("first down");
  const second = failing("second down");
  const path = join(tempDir(), "routing.json");
  writeFileSync(
    path,
    JSON.stringify({
      providers: {
        first: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: first.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-lynkr" },
        second: { type: "anthropic", ANTHROPIC_UPSTREAM_URL: second.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-lynkr" },
      },
      router: { default: "first" },
      fallback: ["second"],
    }),
  );
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_API_KEY: "sk-lynkr", LYNKR_CONFIG: path, CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1" });
  try {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
    const both = await failed(ask(client));
    expect(String(both.message)).toContain("second down");
    expect([first.received.length, second.received.length]).toEqual([1, 1]);

    const panicFirst = await failed(ask(client));
    expect(String(panicFirst.message)).toContain("first down");
    expect(panicFirst.headers?.get("x-lynkr-route")).toMatch(
      /^rule default; fallback: first circuit open -> second; panic: every circuit left is open, first \(open \d+s\) called anyway$/,
    );
    expect([first.received.length, second.received.length]).toEqual([2, 1]);

    const panicSecond = await failed(ask(client));
    expect(String(panicSecond.message)).toContain("second down");
    expect([first.received.length, second.received.length]).toEqual([2, 2]);
  } finally {
    await gateway.shutdown();
    await first.stop();
    await second.stop();
  }
});
