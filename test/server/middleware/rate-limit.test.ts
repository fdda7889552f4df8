import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chunkedResponse, jsonResponse, readWire, sseEvents, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";

let upstream: FakeUpstream;

beforeAll(async () => {
  // 15 input + 13 output tokens per answer.
  const recorded = await readWire("upstream/anthropic/stream-text.sse");
  upstream = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
});
afterAll(() => upstream.stop());

const ask = { model: "claude-x", max_tokens: 16, messages: [{ role: "user" as const, content: "count" }] };
const post = (url: string, key: string) =>
  fetch(`${url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": key }, body: JSON.stringify(ask) });

test("requests per minute: the next request gets 429 rate_limit_error with retry-after and anthropic-ratelimit-* headers", async () => {
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, RATE_LIMIT_REQUESTS_PER_MINUTE: "2" });
  try {
    const first = await post(gateway.url, "any");
    expect(first.status).toBe(200);
    expect(first.headers.get("anthropic-ratelimit-requests-limit")).toBe("2");
    expect(first.headers.get("anthropic-ratelimit-requests-remaining")).toBe("1");
    expect(await post(gateway.url, "any").then((r) => r.status)).toBe(200);

    const limited = await post(gateway.url, "any");
    expect(limited.status).toBe(429);
    // One request refills in 30 s at 2 per minute.
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(30);
    expect(limited.headers.get("anthropic-ratelimit-requests-remaining")).toBe("0");
    expect(Date.parse(limited.headers.get("anthropic-ratelimit-requests-reset") ?? "")).toBeGreaterThan(Date.now());
    const body = (await limited.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain("2 requests per minute");

    // The SDK sees a RateLimitError it could retry (no x-should-retry: false).
    expect(limited.headers.get("x-should-retry")).toBeNull();
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "any", maxRetries: 0 });
    expect(await client.messages.create(ask).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.RateLimitError);
  } finally {
    await gateway.shutdown();
  }
});

test("tokens per minute are reserved before each call and settled to the answer's usage, per key, with per-key overrides", async () => {
  const gateway = startTestGateway({
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    LYNKR_API_KEYS: "small:key-small-0000000,big:key-big-00000000",
    RATE_LIMIT_TOKENS_PER_MINUTE: "30",
    RATE_LIMIT_BY_KEY: "big=0/1000",
  });
  try {
    // The first request reserves its estimate (body bytes / 4 + max_tokens, at most the whole
    // bucket of 30) and is settled to the 28 it used: the 2 left cannot hold the next one's
    // estimate, so it is refused before its call instead of overshooting the limit.
    const first = await post(gateway.url, "key-small-0000000");
    expect(first.status).toBe(200);
    expect(first.headers.get("anthropic-ratelimit-tokens-limit")).toBe("30");
    await Bun.sleep(20);
    const limited = await post(gateway.url, "key-small-0000000");
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { message: string } }).error.message).toContain("client small: 30 tokens per minute");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);

    // Another key has its own allowance.
    for (let i = 0; i < 3; i++) expect((await post(gateway.url, "key-big-00000000")).status).toBe(200);
  } finally {
    await gateway.shutdown();
  }
});

test("a per-key limit naming an unknown key stops start-up with the variable named", async () => {
  expect(() =>
    startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_API_KEYS: "a:key-aaaaaaaaaa", RATE_LIMIT_BY_KEY: "b=1/1" }),
  ).toThrow(/RATE_LIMIT_BY_KEY.*"b" is not a key name/);
});

test("an upstream's error answer carries the client's rate-limit state too, and lynkr's state wins over the upstream's", async () => {
  const recorded: unknown = JSON.parse(await readWire("upstream/anthropic/error-400-invalid-request.json"));
  const failing = startFakeUpstream(() => jsonResponse(recorded, 400, { "anthropic-ratelimit-requests-limit": "4000" }));
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: failing.url, RATE_LIMIT_REQUESTS_PER_MINUTE: "5" });
  try {
    const res = await post(gateway.url, "any");
    expect(res.status).toBe(400);
    expect(res.headers.get("anthropic-ratelimit-requests-limit")).toBe("5");
    expect(res.headers.get("anthropic-ratelimit-requests-remaining")).toBe("4");
    // The upstream's wording is kept.
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("does not support effort level");
  } finally {
    await gateway.shutdown();
    await failing.stop();
  }
});

test("count_tokens takes from the same allowance as messages: a client cannot count without limit", async () => {
  const counting = startFakeUpstream(() => jsonResponse({ input_tokens: 5 }));
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: counting.url, RATE_LIMIT_REQUESTS_PER_MINUTE: "2" });
  try {
    const count = () =>
      fetch(`${gateway.url}/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-x", messages: ask.messages }),
      });
    expect((await count()).status).toBe(200);
    expect((await count()).status).toBe(200);
    const limited = await count();
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { type: string } }).error.type).toBe("rate_limit_error");
    expect(counting.received).toHaveLength(2);
  } finally {
    await gateway.shutdown();
    await counting.stop();
  }
});
