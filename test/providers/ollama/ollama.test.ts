import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { isLynkrThinkingSignature } from "../../../src/anthropic/thinking-signature.ts";
import { jsonResponse, readWire } from "../../helpers/fake-upstream.ts";
import { ndjsonResponse, recordedNdjson, startFakeOllama, type FakeOllama } from "../../helpers/fake-ollama.ts";
import { startTestGateway } from "../../helpers/gateway.ts";

let ollama: FakeOllama;
let gateway: ReturnType<typeof startTestGateway>;
let client: Anthropic;

interface SentChat {
  model: string;
  stream: boolean;
  think?: unknown;
  keep_alive?: unknown;
  tools?: { type: string; function: { name: string; description?: string; parameters: unknown } }[];
  options: Record<string, unknown>;
  messages: { role: string; content: string; images?: string[]; thinking?: string; tool_calls?: unknown[]; tool_name?: string }[];
}

const lastChat = () => ollama.chats().at(-1)?.json as SentChat;

beforeAll(() => {
  ollama = startFakeOllama(
    {
      "coder:7b": { capabilities: ["completion", "tools"], contextLength: 32768 },
      "thinker:8b": { capabilities: ["completion", "tools", "thinking"] },
      "plain:1b": { capabilities: ["completion", "vision"] },
    },
    async () => ndjsonResponse(await recordedNdjson("chat-stream-text.ndjson")),
  );
  gateway = startTestGateway({
    MODEL_PROVIDER: "ollama",
    OLLAMA_ENDPOINT: ollama.url,
    OLLAMA_MODEL: "coder:7b",
    OLLAMA_KEEP_ALIVE: "10m",
    OLLAMA_NUM_CTX: "32768",
    // Failures are scripted here; retries and breakers have their own tests in test/routing.
    API_RETRY_MAX_RETRIES: "0",
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000",
  });
  client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
});

afterAll(async () => {
  await gateway.shutdown();
  await ollama.stop();
});

beforeEach(async () => {
  const lines = await recordedNdjson("chat-stream-text.ndjson");
  ollama.onChat(() => ndjsonResponse(lines));
});

test("replays a recorded /api/chat NDJSON stream as Anthropic events, with Ollama's counts as usage", async () => {
  const lines = await recordedNdjson("chat-stream-text.ndjson");
  const expected = lines.map((l) => (JSON.parse(l) as { message: { content: string } }).message.content).join("");
  const final = JSON.parse(lines.at(-1) ?? "{}") as { prompt_eval_count: number; eval_count: number };

  const stream = client.messages.stream({
    model: "claude-x",
    max_tokens: 1000,
    system: [
      { type: "text", text: "x-anthropic-billing-header: cc_version=2.1.328.abc; cc_entrypoint=sdk-cli;" },
      { type: "text", text: "You are terse." },
    ],
    messages: [{ role: "user", content: "count to five" }],
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ["END"],
  });
  const message = await stream.finalMessage();
  expect(message.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual([expected]);
  expect(message.stop_reason).toBe("end_turn");
  expect(message.usage.input_tokens).toBe(final.prompt_eval_count);
  expect(message.usage.output_tokens).toBe(final.eval_count);
  expect(message.model).toBe("gemma3:1b");
  expect(message.id).toMatch(/^msg_01/);

  const sent = lastChat();
  expect(sent.model).toBe("coder:7b");
  expect(sent.stream).toBe(true);
  expect(sent.keep_alive).toBe("10m");
  // The billing block differs per conversation and would defeat Ollama's prompt cache.
  expect(sent.messages).toEqual([
    { role: "system", content: "You are terse." },
    { role: "user", content: "count to five" },
  ]);
  expect(sent.options).toEqual({ num_predict: 1000, temperature: 0.2, top_p: 0.9, top_k: 40, stop: ["END"], num_ctx: 32768 });
  expect(ollama.shows().length).toBe(1);
});

test("a non-streaming request gets the same answer as one Message, and capabilities stay cached", async () => {
  const message = await client.messages.create({ model: "claude-x", max_tokens: 50, messages: [{ role: "user", content: "hi" }] });
  expect(message.content[0]?.type).toBe("text");
  expect(message.content[0]?.type === "text" && message.content[0].text.startsWith("Okay, here we go!")).toBe(true);
  expect(ollama.shows().length).toBe(1);
});

test("tool calls become tool_use blocks with stable toolu_ ids, and tool results go back as role:tool messages", async () => {
  ollama.onChat(async () => ndjsonResponse(await recordedNdjson("chat-stream-tool-call.docs-example.ndjson")));
  const tools: Anthropic.Tool[] = [
    { name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  ];
  const first = await client.messages.stream({ model: "claude-x", max_tokens: 100, tools, messages: [{ role: "user", content: "Weather in Tokyo?" }] }).finalMessage();
  expect(first.stop_reason).toBe("tool_use");
  const call = first.content.find((b) => b.type === "tool_use");
  expect(call?.type === "tool_use" && call.name).toBe("get_weather");
  expect(call?.type === "tool_use" && call.input).toEqual({ city: "Tokyo" });
  expect(call?.type === "tool_use" && call.id).toMatch(/^toolu_01[1-9A-HJ-NP-Za-km-z]{22}$/);
  expect(lastChat().tools).toEqual([
    { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: tools[0]?.input_schema } },
  ]);

  ollama.onChat(async () => ndjsonResponse(await recordedNdjson("chat-stream-text.ndjson")));
  if (call?.type !== "tool_use") throw new Error("no tool call");
  await client.messages.create({
    model: "claude-x",
    max_tokens: 100,
    tools,
    messages: [
      { role: "user", content: "Weather in Tokyo?" },
      { role: "assistant", content: [{ type: "text", text: "Checking." }, call] },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: call.id, content: [{ type: "text", text: "Sunny, 22C" }] },
          { type: "text", text: "And tomorrow?" },
        ],
      },
    ],
  });
  expect(lastChat().messages).toEqual([
    { role: "user", content: "Weather in Tokyo?" },
    { role: "assistant", content: "Checking.", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Tokyo" } } }] },
    { role: "tool", content: "Sunny, 22C", tool_name: "get_weather" },
    { role: "user", content: "And tomorrow?" },
  ]);
});

test("tool schemas go to Ollama as to OpenAI-style backends: no $schema, object schemas with properties", async () => {
  await client.messages.create({
    model: "claude-x",
    max_tokens: 10,
    tools: [{ name: "Now", input_schema: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" } }],
    messages: [{ role: "user", content: "time?" }],
  });
  expect(lastChat().tools).toEqual([{ type: "function", function: { name: "Now", parameters: { type: "object", properties: {} } } }]);
});

test("thinking streams as a thinking block signed by lynkr, and goes back to Ollama as message.thinking", async () => {
  const lines = await recordedNdjson("chat-stream-thinking-cloud.ndjson");
  ollama.onChat(() => ndjsonResponse(lines));
  const parsed = lines.map((l) => JSON.parse(l) as { message: { thinking?: string; content: string } });
  const thinking = parsed.map((c) => c.message.thinking ?? "").join("");
  const text = parsed.map((c) => c.message.content).join("");

  const message = await client.messages
    .stream({
      model: "claude-x",
      max_tokens: 2000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Count from 1 to 5" }],
    })
    .finalMessage();
  // coder:7b cannot think: no `think` is sent.
  expect(lastChat().think).toBeUndefined();
  expect(message.content.map((b) => b.type)).toEqual(["thinking", "text"]);

  const thinker = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "thinker:8b" });
  try {
    const thinkerClient = new Anthropic({ baseURL: thinker.url, apiKey: "k", maxRetries: 0 });
    const answer = await thinkerClient.messages
      .stream({ model: "claude-x", max_tokens: 2000, thinking: { type: "enabled", budget_tokens: 1024 }, messages: [{ role: "user", content: "Count" }] })
      .finalMessage();
    expect(lastChat().think).toBe(true);
    const [block, textBlock] = answer.content;
    expect(block?.type === "thinking" && block.thinking).toBe(thinking);
    expect(block?.type === "thinking" && isLynkrThinkingSignature(block.signature)).toBe(true);
    expect(textBlock?.type === "text" && textBlock.text).toBe(text);

    if (block?.type !== "thinking") throw new Error("no thinking block");
    await thinkerClient.messages.create({
      model: "claude-x",
      max_tokens: 100,
      messages: [
        { role: "user", content: "Count" },
        { role: "assistant", content: [block, { type: "text", text: "1 2 3 4 5" }] },
        { role: "user", content: "again" },
      ],
    });
    expect(lastChat().messages[1]).toEqual({ role: "assistant", content: "1 2 3 4 5", thinking });
    expect(lastChat().think).toBeUndefined();
  } finally {
    await thinker.shutdown();
  }
});

test("a model without the tools capability gets no tools; images go as base64", async () => {
  const plain = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "plain:1b" });
  try {
    const plainClient = new Anthropic({ baseURL: plain.url, apiKey: "k", maxRetries: 0 });
    await plainClient.messages.create({
      model: "claude-x",
      max_tokens: 10,
      tools: [{ name: "Bash", input_schema: { type: "object" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "text", text: "what is this?" },
          ],
        },
      ],
    });
    const sent = lastChat();
    expect(sent.tools).toBeUndefined();
    expect(sent.messages).toEqual([{ role: "user", content: "what is this?", images: ["iVBORw0KGgo="] }]);
  } finally {
    await plain.shutdown();
  }
});

test("Ollama's own 400 keeps its wording; an unknown model says how to pull it", async () => {
  const body = await readWire("upstream/ollama/error-400-model-does-not-support-tools.json");
  ollama.onChat(() => new Response(body, { status: 400, headers: { "content-type": "application/json" } }));
  const error = await client.messages.create({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Anthropic.BadRequestError);
  expect((error as InstanceType<typeof Anthropic.BadRequestError>).message).toContain("does not support tools");

  const missing = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "nope:1b" });
  try {
    const res = await fetch(`${missing.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("ollama pull nope:1b");
  } finally {
    await missing.shutdown();
  }
});

test("an OLLAMA_ENDPOINT with a path of its own (…/v1) is a 502 naming the variable, not a model to pull", async () => {
  const wrong = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: `${ollama.url}/v1`, OLLAMA_MODEL: "coder:7b" });
  try {
    const res = await fetch(`${wrong.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      `OLLAMA_ENDPOINT=${ollama.url}/v1 answered 404 for POST ${ollama.url}/v1/api/show: set it to Ollama's base URL, e.g. http://localhost:11434 (lynkr adds /api/chat)`,
    );
  } finally {
    await wrong.shutdown();
  }
});

test("an error line mid-stream ends the stream with an Anthropic error event", async () => {
  const lines = await recordedNdjson("chat-stream-text.ndjson");
  ollama.onChat(() => ndjsonResponse([...lines.slice(0, 3), '{"error":"an error was encountered while running the model"}']));
  const stream = client.messages.stream({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
  const seen: string[] = [];
  stream.on("text", (t) => seen.push(t));
  const error = await stream.finalMessage().catch((e: unknown) => e);
  expect(String(error)).toContain("an error was encountered while running the model");
  expect(seen.join("")).toBe("Okay, here");
});

test("an error line before any content is an HTTP error (so routing could still fail over)", async () => {
  ollama.onChat(() => ndjsonResponse(['{"error":"model runner has unexpectedly stopped"}']));
  const error = await client.messages.create({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Anthropic.InternalServerError);
  expect(String(error)).toContain("model runner has unexpectedly stopped");
});

test("the answer says which provider and model served it", async () => {
  const res = await fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-x", max_tokens: 10, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.text();
  expect(res.headers.get("x-lynkr-provider")).toBe("ollama");
  expect(res.headers.get("x-lynkr-model")).toBe("coder:7b");
  expect(res.headers.get("x-lynkr-route")).toBe("static: MODEL_PROVIDER=ollama");
});

test("Ollama's retry headers reach the client, as other providers' do", async () => {
  const lines = await recordedNdjson("chat-stream-text.ndjson");
  ollama.onChat(() => ndjsonResponse(lines, { headers: { "retry-after": "7", "x-should-retry": "true" } }));
  const { response } = await client.messages.create({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).withResponse();
  expect(response.headers.get("retry-after")).toBe("7");
  expect(response.headers.get("x-should-retry")).toBe("true");
});

test("the Ollama Cloud tool-call body (thinking + call with an id) translates too", async () => {
  const body = JSON.parse(await readWire("upstream/ollama/chat-tool-call-thinking-cloud.json")) as Record<string, unknown>;
  ollama.onChat(() => jsonResponse(body));
  const message = await client.messages.create({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "weather in SF" }] });
  expect(message.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
  const call = message.content[1];
  expect(call?.type === "tool_use" && call.input).toEqual({ location: "San Francisco, CA" });
  expect(call?.type === "tool_use" && call.id).toMatch(/^toolu_01/);
  expect(message.stop_reason).toBe("tool_use");
});

test("NDJSON split at arbitrary byte boundaries (inside lines and UTF-8 characters) gives the same answer", async () => {
  const recorded = await recordedNdjson("chat-stream-thinking-cloud.ndjson");
  // The recording is ASCII; one added line carries multi-byte characters to cut in half.
  const extra = '{"model":"gpt-oss:120b","created_at":"2026-03-03T23:25:48Z","message":{"role":"assistant","content":" — café ✓ 数"},"done":false}\n';
  const lines = [...recorded.slice(0, -1), extra, ...recorded.slice(-1)];
  const ask = () => client.messages.create({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
  ollama.onChat(() => ndjsonResponse(lines));
  const reference = await ask();
  expect(JSON.stringify(reference.content)).toContain("café ✓ 数");
  const bytes = new TextEncoder().encode(lines.join(""));
  for (const size of [1, 2, 3, 7, 64]) {
    ollama.onChat(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
              controller.close();
            },
          }),
          { headers: { "content-type": "application/x-ndjson" } },
        ),
    );
    const split = await ask();
    expect({ ...split, id: "" }).toEqual({ ...reference, id: "" });
  }
});

test("a prompt larger than OLLAMA_NUM_CTX is refused in the words Claude Code compacts on, before Ollama cuts it", async () => {
  const small = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b", OLLAMA_NUM_CTX: "2048" });
  try {
    const before = ollama.chats().length;
    const smallClient = new Anthropic({ baseURL: small.url, apiKey: "k", maxRetries: 0 });
    const error = await smallClient.messages
      .create({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "lorem ipsum dolor ".repeat(2000) }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String(error)).toMatch(/prompt is too long: \d+ tokens > 2048 maximum/);
    expect(ollama.chats().length).toBe(before);
    // A prompt that fits goes out.
    await smallClient.messages.create({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    expect(ollama.chats().length).toBe(before + 1);
  } finally {
    await small.shutdown();
  }
});

test("without OLLAMA_NUM_CTX, the model's own context length (from /api/show) bounds the prompt", async () => {
  ollama.onChat(async () => ndjsonResponse(await recordedNdjson("chat-stream-text.ndjson")));
  const bare = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b" });
  try {
    const bareClient = new Anthropic({ baseURL: bare.url, apiKey: "k", maxRetries: 0 });
    const error = await bareClient.messages
      .create({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "lorem ipsum dolor ".repeat(30_000) }] })
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/prompt is too long: \d+ tokens > 32768 maximum/);
  } finally {
    await bare.shutdown();
  }
});
