import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { azureAnthropicMessagesUrl } from "../../../src/providers/anthropic-wire/messages-url.ts";
import { anthropicWireOptions } from "../../../src/providers/anthropic-wire/configured.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { startTestGateway } from "../../helpers/gateway.ts";
import { turnEvents } from "../../helpers/scripted-anthropic.ts";

// What the anthropic and azure-anthropic providers put on the wire: the URL for each way users
// write their endpoint, whose credentials go out, the anthropic-version default, the model.

let upstream: FakeUpstream;

beforeAll(() => {
  upstream = startFakeUpstream((req) => {
    const model = (req.json as { model?: string } | undefined)?.model ?? "m";
    return chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, model)));
  });
});
afterAll(() => upstream.stop());

async function callThrough(env: Record<string, string>, headers: Record<string, string>, model = "claude-x") {
  const gateway = startTestGateway({ PROMPT_CACHE_ENABLED: "false", ...env });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    return { answer: (await res.json()) as Anthropic.Message, received: upstream.received.at(-1) };
  } finally {
    await gateway.shutdown();
  }
}

test("without ANTHROPIC_UPSTREAM_API_KEY a host other than api.anthropic.com gets no client credential, unless the operator opts it in", async () => {
  const foreign = await callThrough({ ANTHROPIC_UPSTREAM_URL: upstream.url }, { "x-api-key": "sk-ant-user", authorization: "Bearer sk-ant-oat01-user" });
  expect(foreign.received?.headers.get("x-api-key")).toBeNull();
  expect(foreign.received?.headers.get("authorization")).toBeNull();

  const optedIn = { ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true" };
  const withKey = await callThrough(optedIn, { "x-api-key": "sk-ant-user" });
  expect(withKey.received?.headers.get("x-api-key")).toBe("sk-ant-user");
  expect(withKey.received?.headers.get("authorization")).toBeNull();
  // A Claude subscription's OAuth token arrives as a bearer token.
  const withToken = await callThrough(optedIn, { authorization: "Bearer sk-ant-oat01-user" });
  expect(withToken.received?.headers.get("authorization")).toBe("Bearer sk-ant-oat01-user");
  expect(withToken.received?.headers.get("x-api-key")).toBeNull();
});

test("with ANTHROPIC_UPSTREAM_API_KEY that key replaces whatever the client sent", async () => {
  const { received } = await callThrough(
    { ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant-gateway" },
    { "x-api-key": "dummy", authorization: "Bearer client-token" },
  );
  expect(received?.headers.get("x-api-key")).toBe("sk-ant-gateway");
  expect(received?.headers.get("authorization")).toBeNull();
});

test("the anthropic-version header is the client's, else 2023-06-01; hop-by-hop and unknown client headers stay home", async () => {
  const theirs = await callThrough({ ANTHROPIC_UPSTREAM_URL: upstream.url }, { "anthropic-version": "2099-01-01", "x-secret-internal": "no" });
  expect(theirs.received?.headers.get("anthropic-version")).toBe("2099-01-01");
  expect(theirs.received?.headers.get("x-secret-internal")).toBeNull();
  const none = await callThrough({ ANTHROPIC_UPSTREAM_URL: upstream.url }, {});
  expect(none.received?.headers.get("anthropic-version")).toBe("2023-06-01");
});

test("every way of writing the upstream URL reaches /v1/messages once", async () => {
  for (const suffix of ["", "/", "/v1", "/v1/messages"]) {
    const { received } = await callThrough({ ANTHROPIC_UPSTREAM_URL: upstream.url + suffix }, { "x-api-key": "k" });
    expect(received?.url.pathname, suffix).toBe("/v1/messages");
  }
  // Anthropic-compatible providers document a base URL with a path (…/anthropic).
  const { received } = await callThrough({ ANTHROPIC_UPSTREAM_URL: `${upstream.url}/api/anthropic` }, { "x-api-key": "k" });
  expect(received?.url.pathname).toBe("/api/anthropic/v1/messages");
});

test("MODEL_DEFAULT serves every request, whatever model the client named", async () => {
  const { answer, received } = await callThrough({ ANTHROPIC_UPSTREAM_URL: upstream.url, MODEL_DEFAULT: "claude-fixed" }, { "x-api-key": "k" }, "claude-opus-5-5");
  expect((received?.json as { model: string }).model).toBe("claude-fixed");
  expect(answer.model).toBe("claude-fixed");
});

test("azure-anthropic: its endpoint forms, its key as x-api-key, its anthropic-version default", async () => {
  const azure = { MODEL_PROVIDER: "azure-anthropic", AZURE_ANTHROPIC_API_KEY: "azure-key" };
  for (const endpoint of [`${upstream.url}/anthropic`, `${upstream.url}/anthropic/`, `${upstream.url}/anthropic/v1`, `${upstream.url}/anthropic/v1/messages`]) {
    const { received } = await callThrough({ ...azure, AZURE_ANTHROPIC_ENDPOINT: endpoint }, { "x-api-key": "dummy" });
    expect(received?.url.pathname, endpoint).toBe("/anthropic/v1/messages");
    expect(received?.headers.get("x-api-key")).toBe("azure-key");
    expect(received?.headers.get("anthropic-version")).toBe("2023-06-01");
  }
  const pinned = await callThrough({ ...azure, AZURE_ANTHROPIC_ENDPOINT: `${upstream.url}/anthropic`, AZURE_ANTHROPIC_VERSION: "2024-10-22" }, {});
  expect(pinned.received?.headers.get("anthropic-version")).toBe("2024-10-22");
  // The client's own version still wins: it knows which features it uses.
  const client = await callThrough({ ...azure, AZURE_ANTHROPIC_ENDPOINT: `${upstream.url}/anthropic` }, { "anthropic-version": "2023-01-01" });
  expect(client.received?.headers.get("anthropic-version")).toBe("2023-01-01");
});

test("a bare Azure AI Foundry resource URL means its /anthropic endpoint", () => {
  // A real Foundry host cannot be served on loopback: the mapping itself is checked.
  expect(azureAnthropicMessagesUrl("https://my-res.services.ai.azure.com")).toBe("https://my-res.services.ai.azure.com/anthropic/v1/messages");
  expect(azureAnthropicMessagesUrl("https://my-res.services.ai.azure.com/anthropic")).toBe("https://my-res.services.ai.azure.com/anthropic/v1/messages");
});

test("an upstream 401 says whose key it rejected: the client's own in pass-through, else the variable holding lynkr's", async () => {
  const rejecting = startFakeUpstream(
    () => new Response('{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}', { status: 401, headers: { "content-type": "application/json" } }),
  );
  const ask = async (env: Record<string, string>) => {
    const gateway = startTestGateway({ PROMPT_CACHE_ENABLED: "false", ANTHROPIC_UPSTREAM_URL: rejecting.url, ...env });
    try {
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "sk-ant-user" },
        body: JSON.stringify({ model: "claude-x", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("x-should-retry")).toBe("false");
      return ((await res.json()) as { error: { message: string } }).error.message;
    } finally {
      await gateway.shutdown();
    }
  };
  try {
    expect(await ask({ ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true" })).toBe(
      "invalid x-api-key (upstream anthropic rejected the client's own key, which lynkr passed on because ANTHROPIC_UPSTREAM_API_KEY is not set)",
    );
    expect(await ask({ ANTHROPIC_UPSTREAM_API_KEY: "sk-ant-lynkr" })).toBe("invalid x-api-key (upstream anthropic rejected the key in ANTHROPIC_UPSTREAM_API_KEY)");
  } finally {
    await rejecting.stop();
  }
});

test("an upstream URL whose messages path 404s (an OpenAI base given as ANTHROPIC_UPSTREAM_URL) is a 502 naming the variable", async () => {
  const openAiOnly = startFakeUpstream(() => new Response("404 page not found", { status: 404, headers: { "content-type": "text/plain" } }));
  const gateway = startTestGateway({ PROMPT_CACHE_ENABLED: "false", ANTHROPIC_UPSTREAM_URL: `${openAiOnly.url}/v1`, ANTHROPIC_UPSTREAM_API_KEY: "k" });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-x", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-should-retry")).toBe("false");
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("api_error");
    expect(body.error.message).toBe(
      `ANTHROPIC_UPSTREAM_URL=${openAiOnly.url}/v1 answered 404 for POST ${openAiOnly.url}/v1/messages: set it to the base URL the Anthropic SDK takes, e.g. https://api.anthropic.com (lynkr adds /v1/messages)`,
    );
  } finally {
    await gateway.shutdown();
    await openAiOnly.stop();
  }
});

test("a client's credential is meant for Anthropic's own API: only https://api.anthropic.com gets it without an opt-in", () => {
  const forwards = (env: Record<string, string>) => anthropicWireOptions("anthropic", loadConfig({ env, cwd: "/" }), "anthropic").forwardClientCredentials;
  expect(forwards({})).toBe(true);
  expect(forwards({ ANTHROPIC_UPSTREAM_URL: "https://api.anthropic.com/v1" })).toBe(true);
  expect(forwards({ ANTHROPIC_UPSTREAM_URL: "https://api.anthropic.com.evil.example" })).toBe(false);
  expect(forwards({ ANTHROPIC_UPSTREAM_URL: "http://api.anthropic.com" })).toBe(false);
  expect(forwards({ ANTHROPIC_UPSTREAM_URL: "https://llm-proxy.example.com/anthropic" })).toBe(false);
  expect(forwards({ ANTHROPIC_UPSTREAM_URL: "https://llm-proxy.example.com/anthropic", ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true" })).toBe(true);
});
