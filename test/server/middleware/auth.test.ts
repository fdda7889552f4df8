import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { turnEvents } from "../../helpers/scripted-anthropic.ts";
import { anthropicSse, chunkedResponse, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { runCli, startTestGateway, tempDir } from "../../helpers/gateway.ts";
import { lynkrFromSource, spawnLynkr } from "../../helpers/lynkr-process.ts";

const lynkrKey = "lynkr-team-key-0123456789";
let upstream: FakeUpstream;

beforeAll(() => {
  upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "hi" }] }, "claude-x"))));
});
afterAll(() => upstream.stop());

const ask = { model: "claude-x", max_tokens: 16, messages: [{ role: "user" as const, content: "hello" }] };

describe("with LYNKR_API_KEYS", () => {
  let gateway: ReturnType<typeof startTestGateway>;
  beforeAll(() => {
    gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true", LYNKR_API_KEYS: `alice:${lynkrKey},other-key-abcdefgh` });
  });
  afterAll(() => gateway.shutdown());

  test("a request without a key gets 401 authentication_error that Claude Code will not retry", async () => {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask) });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-should-retry")).toBe("false");
    const body = (await res.json()) as { type: string; error: { type: string; message: string }; request_id: string };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.message).toContain("x-api-key or Authorization: Bearer");
    expect(body.request_id).toMatch(/^req_/);
  });

  test("a wrong key is refused, and the error does not echo it", async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "wrong-key-123456789", maxRetries: 0 });
    const error = await client.messages.create(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(String((error as Error).message)).not.toContain("wrong-key-123456789");
  });

  test("a key as x-api-key is accepted and never forwarded upstream", async () => {
    const before = upstream.received.length;
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": lynkrKey },
      body: JSON.stringify(ask),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { content: unknown }).content).toEqual([{ type: "text", text: "hi" }]);
    const sent = upstream.received.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers.get("x-api-key")).toBeNull();
    expect(sent[0]?.headers.get("authorization")).toBeNull();
  });

  test("a key as Authorization: Bearer is accepted (the SDK's way); the client's own x-api-key still goes upstream", async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: lynkrKey, maxRetries: 0 });
    const message = await client.messages.create(ask);
    expect(message.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["hi"]);
    const before = upstream.received.length;
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${lynkrKey}`, "x-api-key": "sk-ant-clients-own" },
      body: JSON.stringify(ask),
    });
    expect(res.status).toBe(200);
    const sent = upstream.received.slice(before);
    expect(sent[0]?.headers.get("authorization")).toBeNull();
    expect(sent[0]?.headers.get("x-api-key")).toBe("sk-ant-clients-own");
  });

  test("health stays open for probes; metrics need a key", async () => {
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/metrics/prometheus`)).status).toBe(401);
    expect((await fetch(`${gateway.url}/metrics/observability`)).status).toBe(401);
    const res = await fetch(`${gateway.url}/metrics/prometheus`, { headers: { "x-api-key": lynkrKey } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('lynkr_rejected_requests_total{reason="unauthenticated"}');
    expect(text).not.toContain(lynkrKey);
  });

  test("an unknown route under /v1 or /metrics answers 401 without a key and 404 with one", async () => {
    for (const path of ["/v1/nothing-here", "/metrics/nothing-here"]) {
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(401);
      const res = await fetch(`${gateway.url}${path}`, { headers: { "x-api-key": lynkrKey } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    }
    expect((await fetch(`${gateway.url}/elsewhere`)).status).toBe(404);
  });
});

describe("without LYNKR_API_KEYS", () => {
  test("any client is served, credentials passed through as before", async () => {
    const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true" });
    try {
      const before = upstream.received.length;
      const client = new Anthropic({ baseURL: gateway.url, apiKey: "sk-ant-users-key", maxRetries: 0 });
      await client.messages.create(ask);
      expect(upstream.received[before]?.headers.get("authorization")).toBe("Bearer sk-ant-users-key");
      expect((await fetch(`${gateway.url}/metrics/prometheus`)).status).toBe(200);
    } finally {
      await gateway.shutdown();
    }
  });
});

describe("lynkr start on a non-loopback HOST", () => {
  test("refuses to start without keys, naming the ways out", async () => {
    const result = await runCli(["start"], { HOST: "0.0.0.0", PORT: "0" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("LYNKR_API_KEYS");
    expect(result.stderr).toContain("--allow-unauthenticated");
  });

  for (const [name, args, env] of [
    ["starts with --allow-unauthenticated", ["--allow-unauthenticated"], {}],
    ["starts with keys", [], { LYNKR_API_KEYS: lynkrKey }],
  ] as const) {
    test(name, async () => {
      const lynkr = await spawnLynkr(lynkrFromSource, { HOST: "0.0.0.0", ...env }, tempDir(), [...args]);
      expect(await lynkr.stop()).toBe(0);
      expect(lynkr.output()).toContain("lynkr listening on");
      expect(lynkr.output()).not.toContain(lynkrKey);
    });
  }
});
