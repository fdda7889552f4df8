import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { ChatCompletionChunk, ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { chunkedResponse, jsonResponse, readWire, startFakeUpstream, type FakeUpstream, type ReceivedRequest } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";

// Each OpenAI-family provider against a loopback fake: what it sends (URL, auth, api-version,
// body) and how the answer comes back through the Anthropic SDK.

let upstream: FakeUpstream;
let next: (req: ReceivedRequest) => Response | Promise<Response>;
const running: ReturnType<typeof startTestGateway>[] = [];

function chunk(delta: ChatCompletionChunk.Choice.Delta, finish: ChatCompletionChunk.Choice["finish_reason"] = null, extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk {
  return { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-2024-08-06", choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra };
}

function sse(chunks: ChatCompletionChunk[], done = true): string[] {
  return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), ...(done ? ["data: [DONE]\n\n"] : [])];
}

/** MODEL_PROVIDER=openai pointed at the fake upstream. */
const openAiEnv = () => ({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` });

const hello = () => chunkedResponse(sse([chunk({ role: "assistant", content: "" }), chunk({ content: "Hello" }), chunk({}, "stop")]));

beforeAll(() => {
  upstream = startFakeUpstream((req) => next(req));
});

afterEach(async () => {
  while (running.length > 0) await running.pop()?.shutdown();
});

afterAll(() => upstream.stop());

function gateway(env: Record<string, string>): Anthropic {
  const gw = startTestGateway({ API_RETRY_MAX_RETRIES: "0", ...env });
  running.push(gw);
  // A timeout of our own, as Claude Code sets one: the SDK refuses large non-streaming max_tokens otherwise.
  return new Anthropic({ baseURL: gw.url, apiKey: "client-key", maxRetries: 0, timeout: 60_000 });
}

function gatewayUrl(): string {
  const gw = running.at(-1);
  if (!gw) throw new Error("no gateway");
  return gw.url;
}

function lastBody(): ChatCompletionCreateParams & Record<string, unknown> {
  return upstream.received.at(-1)?.json as ChatCompletionCreateParams & Record<string, unknown>;
}

const ask = { model: "claude-opus-5-5", max_tokens: 128000, messages: [{ role: "user" as const, content: "hi" }] };

describe("each provider's URL, auth and body", () => {
  test("openai: Bearer key, organization, configured model, clamped max_tokens, usage requested", async () => {
    next = hello;
    const client = gateway({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_ORGANIZATION: "org-1", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` });
    // Claude Code's own request: 128000 output tokens, more than gpt-4o can give.
    const message = await client.messages.stream({ ...ask, max_tokens: 128000 }).finalMessage();
    expect(message.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["Hello"]);
    const req = upstream.received.at(-1);
    expect(req?.url.pathname).toBe("/v1/chat/completions");
    expect(req?.headers.get("authorization")).toBe("Bearer sk-test");
    expect(req?.headers.get("openai-organization")).toBe("org-1");
    expect(req?.headers.get("x-api-key")).toBeNull();
    expect(lastBody()).toEqual({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      max_tokens: 16384,
      stream_options: { include_usage: true },
    });
  });

  test("azure-openai: deployment URL with api-version, api-key header, no model in the body", async () => {
    next = hello;
    const client = gateway({ MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_ENDPOINT: upstream.url, AZURE_OPENAI_API_KEY: "az", AZURE_OPENAI_DEPLOYMENT: "my-gpt4o", AZURE_OPENAI_API_VERSION: "2025-01-01-preview" });
    await client.messages.create(ask);
    const req = upstream.received.at(-1);
    expect(req?.url.pathname).toBe("/openai/deployments/my-gpt4o/chat/completions");
    expect(req?.url.searchParams.get("api-version")).toBe("2025-01-01-preview");
    expect(req?.headers.get("api-key")).toBe("az");
    expect(req?.headers.get("authorization")).toBeNull();
    expect(lastBody().model).toBeUndefined();
  });

  test("azure-openai: a full chat-completions URL is used as it is", async () => {
    next = hello;
    const full = `${upstream.url}/openai/deployments/dep-x/chat/completions?api-version=2024-06-01`;
    const client = gateway({ MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_ENDPOINT: full, AZURE_OPENAI_API_KEY: "az" });
    await client.messages.create(ask);
    const req = upstream.received.at(-1);
    expect(`${req?.url.pathname}${req?.url.search}`).toBe("/openai/deployments/dep-x/chat/completions?api-version=2024-06-01");
  });

  test("azure-openai: a full URL without a deployment (v1 API, AI Foundry) takes the model in the body", async () => {
    next = hello;
    const v1 = gateway({ MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_ENDPOINT: `${upstream.url}/openai/v1/chat/completions`, AZURE_OPENAI_API_KEY: "az", AZURE_OPENAI_DEPLOYMENT: "gpt-4.1" });
    await v1.messages.create(ask);
    expect(`${upstream.received.at(-1)?.url.pathname}${upstream.received.at(-1)?.url.search}`).toBe("/openai/v1/chat/completions");
    expect(lastBody().model).toBe("gpt-4.1");
    const foundry = gateway({ MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_ENDPOINT: `${upstream.url}/models/chat/completions?api-version=2024-05-01-preview`, AZURE_OPENAI_API_KEY: "az", AZURE_OPENAI_DEPLOYMENT: "DeepSeek-R1" });
    await foundry.messages.create(ask);
    expect(upstream.received.at(-1)?.url.searchParams.get("api-version")).toBe("2024-05-01-preview");
    expect(lastBody().model).toBe("DeepSeek-R1");
  });

  test("openrouter: Bearer key, attribution headers, configured model", async () => {
    next = hello;
    const client = gateway({ MODEL_PROVIDER: "openrouter", OPENROUTER_API_KEY: "or", OPENROUTER_ENDPOINT: `${upstream.url}/api/v1/chat/completions`, OPENROUTER_SITE_URL: "https://example.test" });
    await client.messages.create(ask);
    const req = upstream.received.at(-1);
    expect(req?.url.pathname).toBe("/api/v1/chat/completions");
    expect(req?.headers.get("authorization")).toBe("Bearer or");
    expect(req?.headers.get("x-title")).toBe("lynkr");
    expect(req?.headers.get("http-referer")).toBe("https://example.test");
    expect(lastBody().model).toBe("openai/gpt-4o-mini");
  });

  test("databricks: API base + endpoint path, Bearer token, the model named by the path", async () => {
    next = hello;
    const client = gateway({ MODEL_PROVIDER: "databricks", DATABRICKS_API_BASE: upstream.url, DATABRICKS_API_KEY: "dapi" });
    const message = await client.messages.create(ask);
    expect(message.model).toBe("gpt-4o-2024-08-06");
    const req = upstream.received.at(-1);
    expect(req?.url.pathname).toBe("/serving-endpoints/databricks-claude-sonnet-4-5/invocations");
    expect(req?.headers.get("authorization")).toBe("Bearer dapi");
    expect(lastBody().model).toBeUndefined();
    expect(lastBody().stream_options).toBeUndefined();
    expect(lastBody().max_tokens).toBe(64000);
  });

  test("llamacpp: {base}/v1/chat/completions, no auth unless a key is set", async () => {
    next = hello;
    const client = gateway({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: upstream.url });
    await client.messages.create(ask);
    const req = upstream.received.at(-1);
    expect(req?.url.pathname).toBe("/v1/chat/completions");
    expect(req?.headers.get("authorization")).toBeNull();
    expect(lastBody().model).toBeUndefined();
    const keyed = gateway({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: `${upstream.url}/v1`, LLAMACPP_API_KEY: "lk", LLAMACPP_MODEL: "qwen3-coder" });
    await keyed.messages.create(ask);
    expect(upstream.received.at(-1)?.url.pathname).toBe("/v1/chat/completions");
    expect(upstream.received.at(-1)?.headers.get("authorization")).toBe("Bearer lk");
    expect(lastBody().model).toBe("qwen3-coder");
    expect(lastBody().max_tokens).toBe(65536);
  });
});

describe("models", () => {
  test("MODEL_MAP sends haiku-class requests to a cheaper model; MODEL_DEFAULT serves the rest", async () => {
    next = hello;
    const client = gateway({
      ...openAiEnv(),
      MODEL_DEFAULT: "gpt-4.1",
      MODEL_MAP: "haiku=gpt-4o-mini,openrouter:opus=anthropic/claude-opus-4",
    });
    const mapped = await client.messages.create({ ...ask, model: "claude-haiku-4-5" }).withResponse();
    expect(lastBody().model).toBe("gpt-4o-mini");
    // x-lynkr-model says what was really sent, not the provider's default.
    expect(mapped.response.headers.get("x-lynkr-model")).toBe("gpt-4o-mini");
    const defaulted = await client.messages.create(ask).withResponse();
    expect(lastBody().model).toBe("gpt-4.1");
    expect(defaulted.response.headers.get("x-lynkr-model")).toBe("gpt-4.1");
    expect(lastBody().max_tokens).toBe(32768);
  });

  test("azure-openai: a mapped model is a deployment in the URL", async () => {
    next = hello;
    const client = gateway({ MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_ENDPOINT: upstream.url, AZURE_OPENAI_API_KEY: "az", AZURE_OPENAI_DEPLOYMENT: "big", MODEL_MAP: "haiku=small" });
    await client.messages.create({ ...ask, model: "claude-haiku-4-5" });
    expect(upstream.received.at(-1)?.url.pathname).toBe("/openai/deployments/small/chat/completions");
  });

  test("GET /v1/models lists the configured models with their limits", async () => {
    const client = gateway({
      ...openAiEnv(),
      MODEL_MAP: "haiku=gpt-4o-mini",
      MODEL_CAPABILITIES: '{"gpt-4o":{"context_window":64000}}',
    });
    const page = await client.models.list();
    const models = page.data.map((m) => ({ id: m.id, ...(m as unknown as { context_window?: number; max_output_tokens?: number }) }));
    expect(models.map((m) => [m.id, m.context_window, m.max_output_tokens])).toEqual([
      ["gpt-4o", 64000, 16384],
      ["gpt-4o-mini", 128000, 16384],
    ]);
  });

  test("reasoning models: max_completion_tokens, reasoning_effort from thinking, no sampling parameters", async () => {
    next = hello;
    const client = gateway({ ...openAiEnv(), OPENAI_MODEL: "o3" });
    await client.messages.create({ ...ask, thinking: { type: "enabled", budget_tokens: 31999 }, ...{ temperature: 0.2 } });
    expect(lastBody()).toMatchObject({ model: "o3", max_completion_tokens: 100000, reasoning_effort: "high" });
    expect(lastBody().max_tokens).toBeUndefined();
    expect(lastBody().temperature).toBeUndefined();
    await client.messages.create({ ...ask, thinking: { type: "adaptive" } as unknown as Anthropic.ThinkingConfigParam, output_config: { effort: "low" } } as Anthropic.MessageCreateParamsNonStreaming);
    expect(lastBody().reasoning_effort).toBe("low");
    const router = gateway({ MODEL_PROVIDER: "openrouter", OPENROUTER_API_KEY: "or", OPENROUTER_ENDPOINT: `${upstream.url}/api/v1/chat/completions`, OPENROUTER_MODEL: "deepseek/deepseek-r1" });
    await router.messages.create({ ...ask, thinking: { type: "enabled", budget_tokens: 2000 } });
    expect(lastBody()).toMatchObject({ reasoning: { effort: "low" }, max_tokens: 32768 });
  });

  test("a prompt larger than the model's window is refused before any upstream call, in the wording Claude Code compacts on", async () => {
    const client = gateway({
      ...openAiEnv(),
      OPENAI_MODEL: "tiny-model",
      MODEL_CAPABILITIES: '{"tiny-model":{"context_window":1000,"max_output_tokens":500}}',
    });
    const before = upstream.received.length;
    const error = await client.messages.create({ ...ask, messages: [{ role: "user", content: "word ".repeat(3000) }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toMatch(/prompt is too long: \d{4} tokens > 1000 maximum/);
    expect(upstream.received.length).toBe(before);
    // A prompt that fits, but not with the output asked for: the output is clamped to what is left.
    next = hello;
    await client.messages.create({ ...ask, messages: [{ role: "user", content: "word ".repeat(600) }] });
    const maxTokens = lastBody().max_tokens ?? 0;
    expect(maxTokens).toBeGreaterThan(0);
    expect(maxTokens).toBeLessThan(500);
  });
});

test("an output that does not fit beside the prompt is re-sent once with the output that does", async () => {
  let calls = 0;
  next = () => {
    calls++;
    if (calls > 1) return hello();
    const message = "This model's maximum context length is 128000 tokens. However, you requested 136384 tokens (120000 in the messages, 16384 in the completion). Please reduce the length of the messages or completion.";
    return jsonResponse({ error: { message, type: "invalid_request_error", param: "messages", code: "context_length_exceeded" } }, 400);
  };
  const client = gateway(openAiEnv());
  const message = await client.messages.create(ask);
  expect(message.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["Hello"]);
  expect(calls).toBe(2);
  expect(lastBody().max_tokens).toBe(8000);
});

describe("request translation", () => {
  const openai = () => gateway(openAiEnv());

  test("system, mid-conversation system messages, tool calls and results, images, stop sequences, user", async () => {
    next = hello;
    const image = { type: "base64" as const, media_type: "image/png" as const, data: "iVBORw0KGgo=" };
    await openai().messages.create({
      model: "claude-opus-5-5",
      max_tokens: 1000,
      system: [
        { type: "text", text: "x-anthropic-billing-header: cc_version=2.1.328.abc; cc_entrypoint=sdk-cli;" },
        { type: "text", text: "You are helpful.", cache_control: { type: "ephemeral" } },
      ],
      stop_sequences: ["END"],
      metadata: { user_id: "u-1" },
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      tools: [
        { name: "Read", description: "Read a file", input_schema: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"], additionalProperties: false } },
        { name: "Noop", input_schema: { type: "object" } },
      ],
      messages: [
        { role: "user", content: [{ type: "text", text: "look" }, { type: "image", source: { type: "url", url: "https://example.test/a.png" } }] },
        { role: "system", content: "# Environment" } as unknown as Anthropic.MessageParam,
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "text", text: "Reading both." },
            { type: "tool_use", id: "toolu_a", name: "Read", input: { file_path: "a" } },
            { type: "tool_use", id: "toolu_b", name: "Read", input: { file_path: "b" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_a", content: "A" },
            { type: "tool_result", tool_use_id: "toolu_b", is_error: true, content: [{ type: "text", text: "no such file" }, { type: "image", source: image }] },
            { type: "text", text: "go on" },
          ],
        },
      ],
    });
    const body = lastBody();
    expect(body.messages).toEqual([
      { role: "system", content: "You are helpful." },
      { role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: "https://example.test/a.png" } }] },
      { role: "system", content: "# Environment" },
      {
        role: "assistant",
        content: "Reading both.",
        tool_calls: [
          { id: "toolu_a", type: "function", function: { name: "Read", arguments: '{"file_path":"a"}' } },
          { id: "toolu_b", type: "function", function: { name: "Read", arguments: '{"file_path":"b"}' } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_a", content: "A" },
      { role: "tool", tool_call_id: "toolu_b", content: "Error: no such file" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }, { type: "text", text: "go on" }] },
    ]);
    expect(body.tools).toEqual([
      { type: "function", function: { name: "Read", description: "Read a file", parameters: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"], additionalProperties: false } } },
      { type: "function", function: { name: "Noop", parameters: { type: "object", properties: {} } } },
    ]);
    expect(body).toMatchObject({ tool_choice: "auto", parallel_tool_calls: false, stop: ["END"], user: "u-1", max_tokens: 1000 });
  });

  test("Claude Code's long JSON user_id goes as a stable 64-character hash (OpenAI's limit)", async () => {
    next = hello;
    const client = openai();
    const userId = JSON.stringify({ device_id: "d".repeat(64), account_uuid: "", session_id: "0b6a3c1e-1111-4222-8333-944445555666" });
    await client.messages.create({ ...ask, metadata: { user_id: userId } });
    const first = lastBody().user;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    await client.messages.create({ ...ask, metadata: { user_id: userId } });
    expect(lastBody().user).toBe(first);
  });

  test("DeepSeek's thinking mode gets its reasoning back as reasoning_content on every assistant turn; others get none", async () => {
    next = hello;
    const history: Anthropic.MessageParam[] = [
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Need the tool.", signature: "lynkr-thinking.b3BlbmFp" },
          { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }] },
      { role: "assistant", content: "Sunny." },
      { role: "user", content: "thanks" },
    ];
    const deepseek = gateway({ ...openAiEnv(), OPENAI_MODEL: "deepseek-reasoner" });
    await deepseek.messages.create({ ...ask, messages: history });
    const assistants = lastBody().messages.filter((m) => m.role === "assistant");
    expect(assistants.map((m) => (m as { reasoning_content?: string }).reasoning_content)).toEqual(["Need the tool.", ""]);
    await openai().messages.create({ ...ask, messages: history });
    expect(JSON.stringify(lastBody().messages)).not.toContain("reasoning_content");
  });

  test("OpenRouter to Claude keeps Claude Code's cache breakpoints; other backends never see them", async () => {
    // OpenRouter's usage for Claude: cache reads and cache writes inside prompt_tokens.
    const usage = { prompt_tokens: 12000, completion_tokens: 5, total_tokens: 12005, prompt_tokens_details: { cached_tokens: 9000, cache_write_tokens: 2500 } };
    next = () => chunkedResponse([...sse([chunk({ content: "ok" }), chunk({}, "stop")], false), `data: ${JSON.stringify({ ...chunk({}), choices: [], usage })}\n\n`, "data: [DONE]\n\n"]);
    const captured = JSON.parse(await readWire("claude-code-sessions/refactor-two-runs/003-anthropic-RUN-1-t2.json")) as { body: Record<string, unknown> };
    const send = (url: string) =>
      fetch(`${url}/v1/messages?beta=true`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(captured.body) });
    gateway({ MODEL_PROVIDER: "openrouter", OPENROUTER_API_KEY: "or", OPENROUTER_ENDPOINT: `${upstream.url}/api/v1/chat/completions`, OPENROUTER_MODEL: "anthropic/claude-sonnet-4.5" });
    const res = await send(gatewayUrl());
    expect(await res.text()).toContain('"cache_read_input_tokens":9000');
    const marked = lastBody().messages.filter((m) => JSON.stringify(m).includes("cache_control"));
    // The system prompt and the last tool result: the breakpoints Claude Code set (system[1..2], last block).
    expect(marked.map((m) => m.role)).toEqual(["system", "tool"]);
    expect(marked[0]?.content as unknown).toEqual([{ type: "text", text: expect.stringContaining("You are a Claude agent"), cache_control: { type: "ephemeral" } }]);
    expect(marked[1]?.content as unknown).toEqual([{ type: "text", text: expect.any(String), cache_control: { type: "ephemeral" } }]);
    gateway(openAiEnv());
    const plain = await send(gatewayUrl());
    const text = await plain.text();
    expect(text).toContain('"input_tokens":500');
    expect(text).toContain('"cache_creation_input_tokens":2500');
    expect(JSON.stringify(lastBody())).not.toContain("cache_control");
  });

  test("tool_choice any/tool/none map to required/function/none", async () => {
    next = hello;
    const client = openai();
    const tools = [{ name: "Bash", input_schema: { type: "object" as const, properties: {} } }];
    await client.messages.create({ ...ask, tools, tool_choice: { type: "any" } });
    expect(lastBody().tool_choice).toBe("required");
    await client.messages.create({ ...ask, tools, tool_choice: { type: "tool", name: "Bash" } });
    expect(lastBody().tool_choice).toEqual({ type: "function", function: { name: "Bash" } });
    await client.messages.create({ ...ask, tools, tool_choice: { type: "none" } });
    expect(lastBody().tool_choice).toBe("none");
    await client.messages.create(ask);
    expect(lastBody().tools).toBeUndefined();
  });

  test("PDFs become file parts where the model takes them, and a clear 400 where it cannot", async () => {
    next = hello;
    const pdf = { role: "user" as const, content: [{ type: "document" as const, source: { type: "base64" as const, media_type: "application/pdf" as const, data: "JVBERi0=" } }] };
    await openai().messages.create({ ...ask, messages: [pdf] });
    expect(lastBody().messages).toEqual([{ role: "user", content: [{ type: "file", file: { filename: "document.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } }] }]);
    const llama = gateway({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: upstream.url });
    const before = upstream.received.length;
    const error = await llama.messages.create({ ...ask, messages: [pdf] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain("a PDF document cannot be sent to model llamacpp on provider llamacpp");
    expect(upstream.received.length).toBe(before);
  });

  test("a model without images or tools: a clear 400 when the request needs them, tools left out when it does not", async () => {
    next = hello;
    const client = gateway({
      ...openAiEnv(),
      OPENAI_MODEL: "plain",
      MODEL_CAPABILITIES: '{"plain":{"tools":false,"images":false}}',
    });
    const image = await client.messages
      .create({ ...ask, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://example.test/a.png" } }] }] })
      .catch((e: unknown) => e);
    expect((image as Error).message).toContain("an image cannot be sent to model plain");
    const tools = [{ name: "Bash", input_schema: { type: "object" as const } }];
    await client.messages.create({ ...ask, tools });
    expect(lastBody().tools).toBeUndefined();
    const needed = await client.messages.create({ ...ask, tools, tool_choice: { type: "any" } }).catch((e: unknown) => e);
    expect((needed as Error).message).toContain("does not support tools");
  });

  test("llamacpp merges a mid-conversation system message into the user turn before it", async () => {
    next = hello;
    const client = gateway({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: upstream.url });
    await client.messages.create({
      ...ask,
      system: "S",
      messages: [
        { role: "user", content: "hi" },
        { role: "system", content: [{ type: "text", text: "# Environment" }] } as unknown as Anthropic.MessageParam,
        { role: "assistant", content: "ok" },
        { role: "system", content: [] } as unknown as Anthropic.MessageParam,
        { role: "user", content: "next" },
      ],
    });
    expect(lastBody().messages).toEqual([
      { role: "system", content: "S" },
      { role: "user", content: "hi\n\n# Environment" },
      { role: "assistant", content: "ok" },
      { role: "user", content: "next" },
    ]);
  });
});

describe("responses", () => {
  test("parallel tool calls: each block's input streams as input_json_delta while the arguments arrive", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = sse([
      chunk({ role: "assistant", content: null, tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "Bash", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"comm' } }] }),
    ], false);
    const rest = sse([
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'and":"ls"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: "call_2", type: "function", function: { name: "Read", arguments: '{"file_path":' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '"a.txt"}' } }] }),
      chunk({}, "tool_calls"),
      { ...chunk({}), choices: [], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60 } } },
    ]);
    next = () => {
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          for (const part of first) controller.enqueue(encoder.encode(part));
          await held;
          for (const part of rest) controller.enqueue(encoder.encode(part));
          controller.close();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    };
    const client = gateway(openAiEnv());
    const stream = client.messages.stream({ ...ask, tools: [{ name: "Bash", input_schema: { type: "object" } }, { name: "Read", input_schema: { type: "object" } }] });
    const partials: string[] = [];
    stream.on("inputJson", (partial) => {
      partials.push(partial);
      // The first fragment reached the client while the upstream still holds the rest.
      release();
    });
    const message = await stream.finalMessage();
    expect(partials).toEqual(['{"comm', 'and":"ls"}', '{"file_path":', '"a.txt"}']);
    expect(message.content.map((b) => (b.type === "tool_use" ? [b.name, b.input, b.id.slice(0, 8)] : b.type))).toEqual([
      ["Bash", { command: "ls" }, "toolu_01"],
      ["Read", { file_path: "a.txt" }, "toolu_01"],
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 40, output_tokens: 20, cache_read_input_tokens: 60 });
  });

  test("parallel calls that all say index 0 but carry their own ids (Gemini) stay separate calls", async () => {
    next = () =>
      chunkedResponse(
        sse([
          chunk({ role: "assistant", tool_calls: [{ index: 0, id: "function-call-1", type: "function", function: { name: "Read", arguments: '{"file_path":"a"}' } }] }),
          chunk({ tool_calls: [{ index: 0, id: "function-call-2", type: "function", function: { name: "Read", arguments: '{"file_path":"b"}' } }] }),
          chunk({}, "tool_calls"),
        ]),
      );
    const client = gateway(openAiEnv());
    const message = await client.messages.stream(ask).finalMessage();
    expect(message.content.map((b) => (b.type === "tool_use" ? b.input : b.type))).toEqual([{ file_path: "a" }, { file_path: "b" }]);
  });

  test("stream:false gets one Message; a reported stop sequence becomes stop_sequence", async () => {
    next = () => chunkedResponse(sse([chunk({ content: "done" }), { ...chunk({}, "stop"), choices: [{ index: 0, delta: {}, finish_reason: "stop", logprobs: null, stop_reason: "END" } as ChatCompletionChunk.Choice] }]));
    const client = gateway(openAiEnv());
    const message = await client.messages.create({ ...ask, stop_sequences: ["END"] });
    expect(message).toMatchObject({ type: "message", role: "assistant", content: [{ type: "text", text: "done" }], stop_reason: "stop_sequence", stop_sequence: "END" });
  });

  test("content_filter becomes refusal; length becomes max_tokens", async () => {
    const client = gateway(openAiEnv());
    next = () => chunkedResponse(sse([chunk({ content: "I can" }), chunk({}, "content_filter")]));
    expect((await client.messages.create(ask)).stop_reason).toBe("refusal");
    next = () => chunkedResponse(sse([chunk({ content: "I can" }), chunk({}, "length")]));
    expect((await client.messages.create(ask)).stop_reason).toBe("max_tokens");
  });

  test("OpenRouter's error object in a 200 stream, before any content, becomes an HTTP error with its status", async () => {
    next = () => chunkedResponse([": OPENROUTER PROCESSING\n\n", `data: ${JSON.stringify({ id: "gen-1", error: { code: 502, message: "Provider returned error" } })}\n\n`]);
    const client = gateway({ MODEL_PROVIDER: "openrouter", OPENROUTER_API_KEY: "or", OPENROUTER_ENDPOINT: `${upstream.url}/api/v1/chat/completions` });
    const error = await client.messages.create(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((error as Error).message).toContain("Provider returned error");
  });

  test("OpenRouter's error object after content has streamed becomes an error event", async () => {
    next = () => chunkedResponse([...sse([chunk({ content: "Half an ans" })], false), `data: ${JSON.stringify({ id: "gen-1", error: { code: 502, message: "Upstream provider disconnected" } })}\n\n`]);
    const client = gateway({ MODEL_PROVIDER: "openrouter", OPENROUTER_API_KEY: "or", OPENROUTER_ENDPOINT: `${upstream.url}/api/v1/chat/completions` });
    const stream = client.messages.stream(ask);
    let streamed = "";
    stream.on("text", (delta) => {
      streamed += delta;
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(streamed).toBe("Half an ans");
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain("Upstream provider disconnected");
  });

  test("a stream that breaks off mid-answer ends with an error event, not a truncated success", async () => {
    next = () => chunkedResponse(sse([chunk({ content: "partial" })], false));
    const client = gateway(openAiEnv());
    const error = await client.messages.stream(ask).finalMessage().catch((e: unknown) => e);
    expect((error as Error).message).toContain("closed the stream before finishing the answer");
  });
});

describe("errors", () => {
  // Upstream status, what the client gets (OpenAI's overloaded 503 is Anthropic's 529), error type, x-should-retry.
  const cases: [number, number, string, string][] = [
    [401, 401, "authentication_error", "false"],
    [403, 403, "permission_error", "false"],
    [404, 404, "not_found_error", "false"],
    [500, 500, "api_error", "true"],
    [502, 502, "api_error", "true"],
    [503, 529, "overloaded_error", "true"],
    [529, 529, "overloaded_error", "true"],
  ];
  for (const [status, clientStatus, type, retry] of cases) {
    test(`upstream ${status} → ${clientStatus} ${type}`, async () => {
      // A 404 that names no model is the address's fault (see the next test); this one is the model's.
      const said = status === 404 ? "upstream said 404: model gpt-4o does not exist" : `upstream said ${status}`;
      next = () => jsonResponse({ error: { message: said, type: "x", code: null } }, status);
      gateway(openAiEnv());
      const res = await fetch(`${gatewayUrl()}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask) });
      expect(res.status).toBe(clientStatus);
      expect((res.headers.get("x-should-retry") ?? "true")).toBe(retry);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body).toMatchObject({ type: "error", error: { type } });
      expect(body.error.message).toStartWith(said);
    });
  }

  test("a 404 that names no model means OPENAI_ENDPOINT lacks its path: a 502 naming the variable, not retried", async () => {
    next = () => new Response("<html><body><h1>404 Not Found</h1></body></html>", { status: 404, headers: { "content-type": "text/html" } });
    gateway({ ...openAiEnv(), OPENAI_ENDPOINT: `${upstream.url}/v1` });
    const res = await fetch(`${gatewayUrl()}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask) });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-should-retry")).toBe("false");
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("api_error");
    expect(body.error.message).toBe(
      `OPENAI_ENDPOINT=${upstream.url}/v1 answered 404 for POST ${upstream.url}/v1: set it to the full chat completions URL, e.g. http://host/v1/chat/completions`,
    );
  });

  test("a 401 keeps the upstream's words and names the variable holding the rejected key", async () => {
    const recorded = await readWire("upstream/openai-chat/error-401-invalid-api-key.json");
    next = () => new Response(recorded, { status: 401, headers: { "content-type": "application/json" } });
    gateway(openAiEnv());
    const res = await fetch(`${gatewayUrl()}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask) });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-should-retry")).toBe("false");
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.message).toStartWith("Incorrect API key provided: sk-VKMIs");
    expect(body.error.message).toEndWith("(upstream openai rejected the key in OPENAI_API_KEY)");
  });

  test("llama.cpp's context-size error carries its numbers into Anthropic's wording", async () => {
    next = () => jsonResponse({ error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error", n_prompt_tokens: 40000, n_ctx: 32768 } }, 400);
    const client = gateway({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: upstream.url });
    const error = await client.messages.create(ask).catch((e: unknown) => e);
    expect((error as Error).message).toContain("prompt is too long: 40000 tokens > 32768 maximum");
  });

  test("a refused connection and a timeout are api errors that name the upstream", async () => {
    const closed = startFakeUpstream(() => new Response());
    const port = closed.port;
    await closed.stop();
    const refused = gateway({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: `http://127.0.0.1:${port}` });
    const error = await refused.messages.create(ask).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/upstream llamacpp \(http:\/\/127\.0\.0\.1:\d+\) is unreachable/);
    next = async () => {
      await Bun.sleep(500);
      return hello();
    };
    const slow = gateway({ ...openAiEnv(), OPENAI_TIMEOUT_MS: "100" });
    const timeout = await slow.messages.create(ask).catch((e: unknown) => e);
    expect((timeout as Error).message).toMatch(/upstream openai \(http:\/\/127\.0\.0\.1:\d+\) did not answer within 100 ms/);
  });
});
