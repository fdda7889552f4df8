import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, readWire, startFakeUpstream, throughFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { refusedUrl } from "../helpers/ports.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

// Every way a request can fail, as the client sees it: Anthropic's error shape and status, a
// request id, retry guidance (retry-after kept, x-should-retry:false where no retry helps), and
// failures after the first byte as an `event: error` on the stream.

// Retries and breakers belong to routing (tested there); here each failure reaches the client as is.
const passThrough = { API_RETRY_MAX_RETRIES: "0", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000", PROMPT_CACHE_ENABLED: "false" };
const ask = { model: "claude-x", max_tokens: 32, messages: [{ role: "user" as const, content: "hi" }] };

interface ErrorBody {
  type: string;
  error: { type: string; message: string };
  request_id?: string;
}

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "k", ...headers }, body });
}

async function expectError(res: Response, status: number, type: string): Promise<ErrorBody> {
  const body = (await res.json()) as ErrorBody;
  expect(res.status).toBe(status);
  expect(body.type).toBe("error");
  expect(body.error.type).toBe(type);
  expect(res.headers.get("request-id")).toMatch(/^req_/);
  expect(body.request_id).toBe(res.headers.get("request-id") ?? "");
  expect(res.headers.get("content-type")).toStartWith("application/json");
  return body;
}

describe("bad requests from the client", () => {
  let gateway: ReturnType<typeof startTestGateway>;
  let upstream: FakeUpstream;
  beforeAll(() => {
    upstream = startFakeUpstream(() => new Response("never called", { status: 500 }));
    gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, MAX_REQUEST_BODY_BYTES: "4096", ...passThrough });
  });
  afterAll(async () => {
    await gateway.shutdown();
    await upstream.stop();
  });

  test("malformed JSON is a 400 that says so, and is not retried", async () => {
    const res = await post(gateway.url, '{"model": "claude-x", "max_tokens": ');
    const body = await expectError(res, 400, "invalid_request_error");
    expect(body.error.message).toContain("not valid JSON");
    expect(res.headers.get("x-should-retry")).toBe("false");
    await expectError(await post(gateway.url, ""), 400, "invalid_request_error");
    expect((await expectError(await post(gateway.url, "[1,2]"), 400, "invalid_request_error")).error.message).toContain("JSON object");
  });

  test("missing and mistyped fields are named", async () => {
    const missing = await expectError(await post(gateway.url, JSON.stringify({ max_tokens: 5, messages: [] })), 400, "invalid_request_error");
    expect(missing.error.message).toContain("model");
    const mistyped = await expectError(await post(gateway.url, JSON.stringify({ ...ask, max_tokens: "10" })), 400, "invalid_request_error");
    expect(mistyped.error.message).toContain("max_tokens");
    const badRole = await expectError(await post(gateway.url, JSON.stringify({ ...ask, messages: [{ role: "robot", content: "x" }] })), 400, "invalid_request_error");
    expect(badRole.error.message).toContain("messages.0.role");
    // Through the SDK as well: a typed error with the status and the message.
    const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
    const error = await sdk.messages.create({ ...ask, max_tokens: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).message).toContain("max_tokens");
    expect(upstream.received).toHaveLength(0);
  });

  test("an unknown route is a 404 in Anthropic's shape", async () => {
    const res = await fetch(`${gateway.url}/v1/nothing-here`);
    expect((await expectError(res, 404, "not_found_error")).error.message).toContain("/v1/nothing-here");
    const wrongMethod = await fetch(`${gateway.url}/v1/messages`);
    await expectError(wrongMethod, 404, "not_found_error");
  });

  test("an oversized body is a 413, whether declared or streamed without a length", async () => {
    const big = JSON.stringify({ ...ask, messages: [{ role: "user", content: "x".repeat(10_000) }] });
    const declared = await expectError(await post(gateway.url, big), 413, "request_too_large");
    expect(declared.error.message).toContain("4096");
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: chunked });
    await expectError(res, 413, "request_too_large");
    expect(upstream.received).toHaveLength(0);
  });
});

describe("upstream errors before the first byte", () => {
  const recorded: Record<number, { file: string; headers?: Record<string, string> }> = {
    400: { file: "error-400-invalid-request.json" },
    401: { file: "error-401-authentication.json" },
    404: { file: "error-404-model-not-found.json" },
    429: { file: "error-429-rate-limit.json", headers: { "retry-after": "7", "anthropic-ratelimit-input-tokens-remaining": "0" } },
    529: { file: "error-529-overloaded.json", headers: { "x-should-retry": "true" } },
  };
  const bodies: Record<number, string> = {};
  let upstream: FakeUpstream;
  let gateway: ReturnType<typeof startTestGateway>;
  let sdk: Anthropic;

  beforeAll(async () => {
    for (const [status, { file }] of Object.entries(recorded)) bodies[Number(status)] = await readWire(`upstream/anthropic/${file}`);
    // Anthropic's documented shape for an internal error; no recording of one exists.
    bodies[500] = '{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011Internal"}';
    bodies[403] = '{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}';
    upstream = startFakeUpstream((req) => {
      const status = Number((req.json as { model: string }).model);
      return new Response(bodies[status], { status, headers: { "content-type": "application/json", ...recorded[status]?.headers } });
    });
    gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ...passThrough });
    sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.shutdown();
    await upstream.stop();
  });

  const cases: [number, string, string | null][] = [
    [400, "invalid_request_error", "false"],
    [401, "authentication_error", "false"],
    [403, "permission_error", "false"],
    [404, "not_found_error", "false"],
    [429, "rate_limit_error", null],
    [500, "api_error", null],
    [529, "overloaded_error", "true"],
  ];
  for (const [status, type, shouldRetry] of cases) {
    test(`upstream ${status} reaches the client as ${status} ${type} with its own message`, async () => {
      for (const stream of [true, false]) {
        const res = await post(gateway.url, JSON.stringify({ ...ask, model: String(status), stream }));
        const body = await expectError(res, status, type);
        const upstreamBody = JSON.parse(bodies[status] ?? "") as ErrorBody;
        // The upstream's words come first; a 401 adds whose key it rejected (upstream-error.test.ts).
        expect(body.error.message).toStartWith(upstreamBody.error.message);
        expect(res.headers.get("x-should-retry")).toBe(shouldRetry);
        if (status === 429) {
          expect(res.headers.get("retry-after")).toBe("7");
          expect(res.headers.get("anthropic-ratelimit-input-tokens-remaining")).toBe("0");
        }
      }
    });
  }

  test("the SDK sees typed errors with the upstream's wording", async () => {
    const rateLimited = await sdk.messages.create({ ...ask, model: "429" }).catch((e: unknown) => e);
    expect(rateLimited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((rateLimited as InstanceType<typeof Anthropic.RateLimitError>).headers.get("retry-after")).toBe("7");
    const auth = await sdk.messages.stream({ ...ask, model: "401" }).finalMessage().catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((auth as Error).message).toContain("invalid x-api-key");
  });
});

describe("upstream failures the gateway must explain", () => {
  // An answer cut after its first text delta.
  const head = turnEvents({ blocks: [{ type: "text", text: "partial" }] }, "m").slice(0, 3);

  test("an upstream dying mid-stream becomes an event: error naming the upstream", async () => {
    await throughFakeUpstream(() => chunkedResponse(anthropicSse(head), { dieAfter: 3, delayMs: 20 }), passThrough, async ({ upstream, gateway }) => {
      const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
      const texts: string[] = [];
      const stream = sdk.messages.stream(ask);
      stream.on("text", (t) => texts.push(t));
      const error = await stream.finalMessage().catch((e: unknown) => e);
      expect(texts).toEqual(["partial"]);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect((error as Error).message).toContain("api_error");
      expect((error as Error).message).toContain(upstream.url.replace("http://", ""));
    });
  });

  test("a stream that ends without message_stop is reported, not silently cut", async () => {
    await throughFakeUpstream(() => chunkedResponse(anthropicSse(head)), passThrough, async ({ gateway }) => {
      const text = await (await post(gateway.url, JSON.stringify({ ...ask, stream: true }))).text();
      expect(text).toContain("event: error\n");
      expect(text).toContain("ended before message_stop");
    });
  });

  test("an upstream's own mid-stream error event passes through as it was sent", async () => {
    const data = (await readWire("upstream/anthropic/error-midstream-overloaded.data.json")).trim();
    await throughFakeUpstream(() => chunkedResponse([...anthropicSse(head), `event: error\ndata: ${data}\n\n`]), passThrough, async ({ gateway }) => {
      const text = await (await post(gateway.url, JSON.stringify({ ...ask, stream: true }))).text();
      expect(text.endsWith(`event: error\ndata: ${data}\n\n`)).toBe(true);
      const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
      const error = await sdk.messages.stream(ask).finalMessage().catch((e: unknown) => e);
      expect((error as Error).message).toContain("Overloaded");
    });
  });

  test("an upstream answering 200 with something that is not Anthropic's is an error naming it, not a crash", async () => {
    const html = startFakeUpstream(() => new Response("<html>captive portal</html>", { headers: { "content-type": "text/html" } }));
    const garbled = startFakeUpstream(() => chunkedResponse([...anthropicSse(head).slice(0, 1), "event: content_block_start\ndata: {not json\n\n"]));
    const htmlGateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: html.url, ...passThrough });
    const garbledGateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: garbled.url, ...passThrough });
    try {
      const body = await expectError(await post(htmlGateway.url, JSON.stringify(ask)), 502, "api_error");
      expect(body.error.message).toContain(html.url);
      expect(body.error.message).toContain("captive portal");
      const text = await (await post(garbledGateway.url, JSON.stringify({ ...ask, stream: true }))).text();
      expect(text).toStartWith("event: message_start\n");
      expect(text).toContain("event: error\n");
      expect(text).toContain("not JSON");
    } finally {
      await htmlGateway.shutdown();
      await garbledGateway.shutdown();
      await Promise.all([html.stop(), garbled.stop()]);
    }
  });

  test("an unreachable upstream is a clear api_error naming it", async () => {
    const url = refusedUrl();
    const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: url, ...passThrough });
    try {
      const res = await post(gateway.url, JSON.stringify(ask));
      const body = await expectError(res, 502, "api_error");
      expect(body.error.message).toContain(url);
      expect(body.error.message).toContain("unreachable: connection refused");
    } finally {
      await gateway.shutdown();
    }
  });

  test("an upstream that does not answer in time, or stalls mid-stream, is a timeout naming it", async () => {
    const silent = startFakeUpstream(async () => {
      await Bun.sleep(2_000);
      return new Response("late");
    });
    const stalls = startFakeUpstream(() => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(anthropicSse(head).join("")));
          // then nothing, connection held open
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    });
    const slowGateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: silent.url, ANTHROPIC_UPSTREAM_TIMEOUT_MS: "300", ...passThrough });
    const stallGateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: stalls.url, ANTHROPIC_UPSTREAM_TIMEOUT_MS: "300", ...passThrough });
    try {
      const body = await expectError(await post(slowGateway.url, JSON.stringify(ask)), 504, "api_error");
      expect(body.error.message).toContain(silent.url);
      expect(body.error.message).toContain("300 ms");
      const text = await (await post(stallGateway.url, JSON.stringify({ ...ask, stream: true }))).text();
      expect(text).toContain("event: error\n");
      expect(text).toContain("sent nothing for 300 ms");
    } finally {
      await slowGateway.shutdown();
      await stallGateway.shutdown();
      await Promise.all([silent.stop(), stalls.stop()]);
    }
  });
});

describe("stream lifetime", () => {
  test("a client that disconnects aborts the upstream request", async () => {
    let cancelled = false;
    // A long answer, one "tick " per delta, never finished while the client listens.
    const events = anthropicSse(turnEvents({ blocks: [{ type: "text", text: "tick ".repeat(100) }] }, "m").slice(0, -3));
    await throughFakeUpstream(() => chunkedResponse(events, { delayMs: 50, onCancel: () => (cancelled = true) }), passThrough, async ({ gateway }) => {
      const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
      const stream = sdk.messages.stream(ask);
      const ended = stream.done().catch((e: unknown) => e);
      await new Promise<void>((resolve) => stream.on("text", () => resolve()));
      stream.abort();
      expect(await ended).toBeInstanceOf(Anthropic.APIUserAbortError);
      for (let i = 0; i < 40 && !cancelled; i++) await Bun.sleep(50);
      expect(cancelled).toBe(true);
    });
  });

  test("an idle stream gets ping events while the upstream thinks", async () => {
    const events = anthropicSse(turnEvents({ blocks: [{ type: "text", text: "slow" }] }, "m"));
    await throughFakeUpstream(() => chunkedResponse(events, { delayMs: 100 }), { STREAM_PING_INTERVAL_MS: "25", ...passThrough }, async ({ gateway }) => {
      const text = await (await post(gateway.url, JSON.stringify({ ...ask, stream: true }))).text();
      const pings = text.split("event: ping\n").length - 1;
      expect(pings).toBeGreaterThanOrEqual(5);
      expect(text).toContain('event: ping\ndata: {"type": "ping"}\n\n');
      // Pings go between events, never inside one, and the answer is still whole.
      const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
      expect((await sdk.messages.stream(ask).finalMessage()).content as unknown[]).toEqual([{ type: "text", text: "slow" }]);
    });
  });
});
