import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jsonResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";

// count_tokens (the upstream's own count, or a local estimate where it has none), the model
// list, and the health probes, through the official SDK where it has a call for them.

const countBody = {
  model: "claude-x",
  system: "You are terse.",
  messages: [{ role: "user" as const, content: "How many tokens is this sentence, roughly?" }],
  tools: [{ name: "Read", description: "Read a file", input_schema: { type: "object" as const, properties: { file_path: { type: "string" } } } }],
};

describe("count_tokens", () => {
  let counting: FakeUpstream;
  let noCount: FakeUpstream;
  let gateway: ReturnType<typeof startTestGateway>;
  let fallbackGateway: ReturnType<typeof startTestGateway>;

  beforeAll(() => {
    counting = startFakeUpstream((req) =>
      req.url.pathname === "/v1/messages/count_tokens" ? jsonResponse({ input_tokens: 1234 }) : jsonResponse({}, 500),
    );
    noCount = startFakeUpstream(() => jsonResponse({ type: "error", error: { type: "not_found_error", message: "Not Found" } }, 404));
    gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: counting.url, ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true" });
    fallbackGateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: noCount.url });
  });
  afterAll(async () => {
    await Promise.all([gateway.shutdown(), fallbackGateway.shutdown()]);
    await Promise.all([counting.stop(), noCount.stop()]);
  });

  test("is forwarded to an Anthropic-wire upstream with the body, query and headers the client sent", async () => {
    const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "client-key", maxRetries: 0 });
    const result = await sdk.beta.messages.countTokens({ ...countBody, betas: ["claude-code-20250219"] });
    expect(result.input_tokens).toBe(1234);
    const received = counting.received.at(-1);
    expect(received?.url.pathname).toBe("/v1/messages/count_tokens");
    expect(received?.headers.get("anthropic-beta")).toBe("claude-code-20250219,token-counting-2024-11-01");
    expect(received?.headers.get("authorization")).toBe("Bearer client-key");
    expect(received?.json).toEqual(countBody);
    // As Claude Code calls it: ?beta=true and x-api-key.
    const res = await fetch(`${gateway.url}/v1/messages/count_tokens?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "cc-key", "anthropic-version": "2023-06-01" },
      body: JSON.stringify(countBody),
    });
    expect(await res.json()).toEqual({ input_tokens: 1234 });
    expect(res.headers.get("x-lynkr-token-count")).toBeNull();
    expect(counting.received.at(-1)?.url.search).toBe("?beta=true");
    expect(counting.received.at(-1)?.headers.get("x-api-key")).toBe("cc-key");
  });

  test("where the upstream has none (404), a local estimate marked as such", async () => {
    const res = await fetch(`${fallbackGateway.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k" },
      body: JSON.stringify(countBody),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-lynkr-token-count")).toBe("estimated");
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    const { input_tokens } = (await res.json()) as { input_tokens: number };
    // cl100k of this prompt plus the tool preamble: a few hundred tokens, not zero, not thousands.
    expect(input_tokens).toBeGreaterThan(300);
    expect(input_tokens).toBeLessThan(600);
    const sdk = new Anthropic({ baseURL: fallbackGateway.url, apiKey: "k", maxRetries: 0 });
    const longer = await sdk.messages.countTokens({ ...countBody, messages: [{ role: "user", content: "word ".repeat(1000) }] });
    expect(longer.input_tokens).toBeGreaterThan(input_tokens + 900);
  });

  test("a bad count_tokens body is a 400 naming the field", async () => {
    const res = await fetch(`${gateway.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-x", messages: "hello" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("messages");
  });
});

describe("models", () => {
  let upstream: FakeUpstream;
  const models = [
    { type: "model", id: "claude-opus-5-5", display_name: "Claude Opus 5.5", created_at: "2026-09-01T00:00:00Z" },
    { type: "model", id: "claude-haiku-5-5", display_name: "Claude Haiku 5.5", created_at: "2026-08-01T00:00:00Z" },
  ];
  beforeAll(() => {
    upstream = startFakeUpstream(() => jsonResponse({ data: models, has_more: false, first_id: models[0]?.id, last_id: models[1]?.id }));
  });
  afterAll(() => upstream.stop());

  test("lists the upstream's models in Anthropic's list shape, with the client's credentials", async () => {
    const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true" });
    try {
      const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "client-key", maxRetries: 0 });
      const page = await sdk.models.list();
      expect(page.data.map((m) => m.id)).toEqual(["claude-opus-5-5", "claude-haiku-5-5"]);
      expect(page.data[0]).toMatchObject({ type: "model", display_name: "Claude Opus 5.5" });
      const received = upstream.received.at(-1);
      expect(received?.url.pathname).toBe("/v1/models");
      expect(received?.url.search).toBe("?limit=1000");
      expect(received?.headers.get("authorization")).toBe("Bearer client-key");
      const raw = (await (await fetch(`${gateway.url}/v1/models`)).json()) as Record<string, unknown>;
      expect(raw).toMatchObject({ has_more: false, first_id: "claude-opus-5-5", last_id: "claude-haiku-5-5" });
    } finally {
      await gateway.shutdown();
    }
  });

  test("with MODEL_DEFAULT, the one model every request is served with", async () => {
    const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, MODEL_DEFAULT: "claude-sonnet-fixed" });
    try {
      const sdk = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
      const page = await sdk.models.list();
      expect(page.data.map((m) => m.id)).toEqual(["claude-sonnet-fixed"]);
    } finally {
      await gateway.shutdown();
    }
  });
});

describe("health", () => {
  test("live answers; ready checks the database and turns 503 once shutdown begins", async () => {
    const gateway = startTestGateway({});
    const live = await fetch(`${gateway.url}/health/live`);
    expect(live.status).toBe(200);
    expect(live.headers.get("request-id")).toMatch(/^req_/);
    expect(await live.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${gateway.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", shutdown: "ok" } });

    gateway.gateway.db.close();
    const broken = await fetch(`${gateway.url}/health/ready`);
    expect(broken.status).toBe(503);
    expect(await broken.json()).toMatchObject({ status: "not_ready", checks: { database: "unreachable" } });
    gateway.gateway.lifecycle.shuttingDown = true;
    await gateway.shutdown().catch(() => {});
  });

  test("a client's sane X-Request-ID becomes the request id; anything else gets a new one", async () => {
    const gateway = startTestGateway({});
    try {
      const given = await fetch(`${gateway.url}/health/live`, { headers: { "x-request-id": "trace-42.a" } });
      expect(given.headers.get("request-id")).toBe("trace-42.a");
      const unsafe = await fetch(`${gateway.url}/health/live`, { headers: { "x-request-id": "bad id\twith spaces" } });
      expect(unsafe.headers.get("request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    } finally {
      await gateway.shutdown();
    }
  });
});
