import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.ts";
import { chatChunk, jsonResponse, openAiSse, startFakeUpstream, type FakeUpstream, type ReceivedRequest } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";

// What each backend's own prefix cache needs, as each upstream receives it: OpenAI's
// prompt_cache_key, llama.cpp's cache_prompt and sticky slot, Ollama's keep_alive; and what the
// upstream's cache served, reported back (x-lynkr-cache-read, metrics).

let chat: FakeUpstream;
let ollama: FakeOllama;

beforeAll(() => {
  chat = startFakeUpstream((req) => {
    if (req.url.pathname === "/apply-template") return jsonResponse({ prompt: "<|im_start|>user\nhi there<|im_end|>" });
    if (req.url.pathname === "/tokenize") return jsonResponse({ tokens: [1, 2, 3, 4, 5, 6, 7] });
    const body = req.json as { stream?: boolean };
    const usage = { prompt_tokens: 2048, completion_tokens: 1, total_tokens: 2049, prompt_tokens_details: { cached_tokens: 1536 } };
    if (body.stream === false) return jsonResponse({ id: "c", model: "gpt-4o", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }], usage });
    const sse = openAiSse([chatChunk({ role: "assistant", content: "ok" }), chatChunk({}, "stop"), chatChunk({}, null, { choices: [], usage })]).join("");
    return new Response(sse, { headers: { "content-type": "text/event-stream" } });
  });
  const lines = [
    { model: "coder", message: { role: "assistant", content: "ok" }, done: false },
    { model: "coder", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 10, eval_count: 1 },
  ].map((l) => `${JSON.stringify(l)}\n`);
  ollama = startFakeOllama({ coder: { capabilities: ["completion", "tools"], contextLength: 131_072 } }, () => new Response(lines.join(""), { headers: { "content-type": "application/x-ndjson" } }));
});
afterAll(async () => {
  await chat.stop();
  await ollama.stop();
});

const ask = (session?: string, agent?: string, stream = true) =>
  ({
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": "k",
      "anthropic-version": "2023-06-01",
      ...(session ? { "x-claude-code-session-id": session } : {}),
      ...(agent ? { "x-claude-code-agent-id": agent } : {}),
    },
    body: JSON.stringify({ model: "claude-opus-5-5", max_tokens: 100, stream, messages: [{ role: "user", content: "hi" }] }),
  }) satisfies RequestInit;

async function sentBodies(env: Record<string, string>, asks: RequestInit[]): Promise<Record<string, unknown>[]> {
  const gateway = startTestGateway(env);
  try {
    const before = chat.received.length;
    for (const init of asks) await (await fetch(`${gateway.url}/v1/messages`, init)).text();
    return chat.received.slice(before).map((r: ReceivedRequest) => r.json as Record<string, unknown>);
  } finally {
    await gateway.shutdown();
  }
}

test("OpenAI and Azure: prompt_cache_key is the conversation (session, and agent for a subagent); none without a session", async () => {
  // auto sends it only to OpenAI's own API and Azure's v1 API; this fake stands in for OpenAI's.
  const openai = { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${chat.url}/v1/chat/completions`, OPENAI_PROMPT_CACHE_KEY: "on" };
  const bodies = await sentBodies(openai, [ask("s-1"), ask("s-1", "a1b2c3"), ask()]);
  expect(bodies.map((b) => b.prompt_cache_key)).toEqual(["s-1", "s-1/a1b2c3", undefined]);
  const azureV1 = { MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: `${chat.url}/openai/v1/chat/completions`, AZURE_OPENAI_DEPLOYMENT: "gpt-4o" };
  expect((await sentBodies(azureV1, [ask("s-2")]))[0]?.prompt_cache_key).toBe("s-2");
  // A key longer than OpenAI takes goes as its hash, the same every turn.
  const long = "s".repeat(100);
  const [first, second] = await sentBodies(openai, [ask(long), ask(long)]);
  expect(String(first?.prompt_cache_key)).toMatch(/^[0-9a-f]{64}$/);
  expect(second?.prompt_cache_key).toBe(first?.prompt_cache_key);
});

test("auto leaves prompt_cache_key out where the API may refuse it: another OpenAI-compatible server, an Azure deployment URL; off leaves it out everywhere", async () => {
  const compatible = { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${chat.url}/v1/chat/completions` };
  expect((await sentBodies(compatible, [ask("s-1")]))[0]).not.toHaveProperty("prompt_cache_key");
  const azureDeployment = { MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: chat.url, AZURE_OPENAI_DEPLOYMENT: "gpt-4o" };
  expect((await sentBodies(azureDeployment, [ask("s-1")]))[0]).not.toHaveProperty("prompt_cache_key");
  const azureV1Off = { MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: `${chat.url}/openai/v1/chat/completions`, AZURE_OPENAI_DEPLOYMENT: "gpt-4o", OPENAI_PROMPT_CACHE_KEY: "off" };
  expect((await sentBodies(azureV1Off, [ask("s-1")]))[0]).not.toHaveProperty("prompt_cache_key");
});

test("backends without prompt_cache_key never get it; llama.cpp gets cache_prompt and, with LLAMACPP_SLOTS, a sticky slot", async () => {
  const openrouter = { MODEL_PROVIDER: "openrouter", OPENROUTER_API_KEY: "k", OPENROUTER_ENDPOINT: `${chat.url}/api/v1/chat/completions` };
  const [routed] = await sentBodies(openrouter, [ask("s-1")]);
  expect(routed).not.toHaveProperty("prompt_cache_key");
  expect(routed).not.toHaveProperty("cache_prompt");

  const llama = { MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: chat.url };
  const [plain] = await sentBodies(llama, [ask("s-1")]);
  expect(plain?.cache_prompt).toBe(true);
  expect(plain).not.toHaveProperty("id_slot");
  expect(plain).not.toHaveProperty("prompt_cache_key");

  const slotted = await sentBodies({ ...llama, LLAMACPP_SLOTS: "2" }, [ask("a"), ask("b"), ask("a"), ask("c"), ask("a"), ask()]);
  // a keeps slot 0, b takes 1, c takes b's (used longest ago); no session: the server picks.
  expect(slotted.map((b) => b.id_slot)).toEqual([0, 1, 0, 1, 0, undefined]);
});

test("llama.cpp answers count_tokens itself, with its template and tokenizer", async () => {
  const gateway = startTestGateway({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: chat.url });
  try {
    const res = await fetch(`${gateway.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-opus-5-5", messages: [{ role: "user", content: "hi there" }] }),
    });
    expect(await res.json()).toEqual({ input_tokens: 7 });
    expect(res.headers.get("x-lynkr-token-count")).toBeNull();
    const paths = chat.received.slice(-2).map((r) => r.url.pathname);
    expect(paths).toEqual(["/apply-template", "/tokenize"]);
  } finally {
    await gateway.shutdown();
  }
});

test("Ollama keeps the model loaded for 30 minutes unless told otherwise", async () => {
  const gateway = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder" });
  try {
    await (await fetch(`${gateway.url}/v1/messages`, ask("s-1"))).text();
    expect((ollama.chats().at(-1)?.json as { keep_alive?: unknown }).keep_alive).toBe("30m");
  } finally {
    await gateway.shutdown();
  }
});

test("what the upstream's cache served: x-lynkr-cache-read on a JSON answer, and the hit ratio per provider and model", async () => {
  const gateway = startTestGateway({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${chat.url}/v1/chat/completions` });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, ask("s-1", undefined, false));
    const message = (await res.json()) as { usage: { input_tokens: number; cache_read_input_tokens: number } };
    expect(message.usage).toMatchObject({ input_tokens: 512, cache_read_input_tokens: 1536 });
    expect(res.headers.get("x-lynkr-cache-read")).toBe("1536");
    type Row = { provider: string; cached_input_tokens: number; input_tokens: number; cache_hit_ratio: number };
    let row: Row | undefined;
    // Counted once the answer is out, just after the client read it.
    for (let tries = 0; tries < 100 && !row; tries++) {
      const metrics = (await (await fetch(`${gateway.url}/metrics/observability`)).json()) as { by_provider_model: Row[] };
      row = metrics.by_provider_model.find((r) => r.provider === "openai" && r.input_tokens > 0);
      if (!row) await Bun.sleep(20);
    }
    expect(row).toMatchObject({ cached_input_tokens: 1536, input_tokens: 2048, cache_hit_ratio: 0.75 });
    const prometheus = await (await fetch(`${gateway.url}/metrics/prometheus`)).text();
    expect(prometheus).toMatch(/lynkr_upstream_cached_prompt_tokens_total\{provider="openai",model="[^"]+"\} 1536/);
  } finally {
    await gateway.shutdown();
  }
});
