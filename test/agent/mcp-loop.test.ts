import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ChatCompletionCreateParams, ChatCompletionToolMessageParam } from "openai/resources/chat/completions";
import { anthropicSse, chatChunk, openAiSse, startFakeUpstream, throughFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";
import { ndjsonResponse, startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { writeMcpConfig } from "../helpers/mcp-config.ts";

// The server-tool loop with lynkr's own MCP server: the model (a scripted OpenAI-wire or
// Ollama-wire upstream) calls mcp__demo__echo, lynkr runs it on the SDK test server, the second
// upstream request carries the result, and the client gets mcp_tool_use, mcp_tool_result and the
// final text in one answer.

type Gateway = ReturnType<typeof startTestGateway>;

const clientTool = { name: "Bash", description: "Runs a command", input_schema: { type: "object" as const, properties: { command: { type: "string" } } } };

function toolCallSse(name: string, input: unknown, id = "call_1"): string {
  return openAiSse([
    chatChunk({ role: "assistant", content: null }),
    chatChunk({ tool_calls: [{ index: 0, id, type: "function", function: { name, arguments: "" } }] }),
    chatChunk({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify(input) } }] }),
    chatChunk({}, "tool_calls"),
    chatChunk({}, null, { choices: [], usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 } }),
  ]).join("");
}

function textSse(text: string): string {
  return openAiSse([
    chatChunk({ role: "assistant", content: text }),
    chatChunk({}, "stop"),
    chatChunk({}, null, { choices: [], usage: { prompt_tokens: 150, completion_tokens: 5, total_tokens: 155 } }),
  ]).join("");
}

const sse = (body: string) => new Response(body, { headers: { "content-type": "text/event-stream" } });

async function mcpReady(gateway: Gateway) {
  await gateway.gateway.serverTools.mcp.settled();
  expect(gateway.gateway.serverTools.mcp.status()[0]?.state).toBe("ready");
}

describe("OpenAI wire", () => {
  let upstream: FakeUpstream;
  let gateway: Gateway;
  let script: (body: ChatCompletionCreateParams) => string;

  beforeAll(async () => {
    upstream = startFakeUpstream((req) => sse(script(req.json as ChatCompletionCreateParams)));
    gateway = startTestGateway({
      MODEL_PROVIDER: "openai",
      OPENAI_API_KEY: "sk-test",
      OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`,
      LYNKR_MCP_CONFIG: writeMcpConfig(),
      POLICY_MAX_STEPS: "4",
      POLICY_DISALLOWED_TOOLS: "mcp__demo__crash, mcp__demo__add_*",
    });
    await mcpReady(gateway);
  });
  afterAll(async () => {
    await gateway.shutdown();
    await upstream.stop();
  });

  test("the model calls mcp__demo__echo: lynkr runs it and the client sees mcp_tool_use, mcp_tool_result and the answer (POLICY_DISALLOWED_TOOLS left out)", async () => {
    upstream.received.length = 0;
    script = (body) => {
      const results = body.messages.filter((m): m is ChatCompletionToolMessageParam => m.role === "tool");
      return results.length === 0 ? toolCallSse("mcp__demo__echo", { text: "hi" }) : textSse("The server said: echo: hi");
    };
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "x" });
    const events: string[] = [];
    const stream = client.beta.messages.stream({ model: "gpt-4o", max_tokens: 100, tools: [clientTool], messages: [{ role: "user", content: "say hi via echo" }] });
    for await (const event of stream) events.push(event.type);
    const message = await stream.finalMessage();

    expect(upstream.received).toHaveLength(2);
    const first = upstream.received[0]?.json as ChatCompletionCreateParams;
    expect(first.tools?.map((t) => (t.type === "function" ? t.function.name : t.type))).toEqual(["Bash", "mcp__demo__echo", "mcp__demo__sleep", "mcp__demo__env"]);
    const second = upstream.received[1]?.json as ChatCompletionCreateParams;
    const toolMessage = second.messages.find((m): m is ChatCompletionToolMessageParam => m.role === "tool");
    expect(JSON.stringify(toolMessage?.content)).toContain("echo: hi");

    expect(message.content.map((b) => b.type)).toEqual(["mcp_tool_use", "mcp_tool_result", "text"]);
    const use = message.content[0];
    const result = message.content[1];
    expect(use?.type === "mcp_tool_use" && use.server_name).toBe("demo");
    expect(use?.type === "mcp_tool_use" && use.name).toBe("echo");
    expect(use?.type === "mcp_tool_use" && use.input).toEqual({ text: "hi" });
    expect(result?.type === "mcp_tool_result" && result.tool_use_id).toBe(use?.type === "mcp_tool_use" ? use.id : "none");
    expect(JSON.stringify(result)).toContain("echo: hi");
    expect(message.content[2]?.type === "text" && message.content[2].text).toBe("The server said: echo: hi");
    expect(message.stop_reason).toBe("end_turn");
    // Usage summed over both model calls.
    expect(message.usage.input_tokens).toBe(250);
    expect(message.usage.output_tokens).toBe(15);
    expect(events.filter((e) => e === "message_start")).toHaveLength(1);
    const metrics = await (await fetch(`${gateway.url}/metrics/prometheus`)).text();
    expect(metrics).toContain('lynkr_server_tool_calls_total{tool="mcp:demo",outcome="ok"} 1');
  });

  test("the client sends that answer back next turn: the upstream sees a valid tool call and result", async () => {
    upstream.received.length = 0;
    script = () => textSse("ok");
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "x" });
    await client.beta.messages.create({
      model: "gpt-4o",
      max_tokens: 100,
      tools: [clientTool],
      messages: [
        { role: "user", content: "say hi via echo" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Calling echo." },
            { type: "mcp_tool_use", id: "mcptoolu_1", name: "echo", server_name: "demo", input: { text: "hi" } },
            { type: "mcp_tool_result", tool_use_id: "mcptoolu_1", is_error: false, content: [{ type: "text", text: "echo: hi" }] },
            { type: "text", text: "It said hi." },
          ],
        },
        { role: "user", content: "thanks" },
      ],
    });
    const body = upstream.received[0]?.json as ChatCompletionCreateParams;
    const roles = body.messages.map((m) => m.role);
    // The assistant turn is cut at the result: call, result, the rest of the turn, then the user's reply.
    expect(roles.slice(-5)).toEqual(["user", "assistant", "tool", "assistant", "user"]);
    const call = body.messages.find((m) => m.role === "assistant" && "tool_calls" in m && m.tool_calls);
    expect(JSON.stringify(call)).toContain("mcp__demo__echo");
    expect(JSON.stringify(body.messages.find((m) => m.role === "tool"))).toContain("echo: hi");
  });

  test("a model that calls tools forever is stopped by POLICY_MAX_STEPS with pause_turn, every call paired with a result", async () => {
    upstream.received.length = 0;
    let n = 0;
    script = () => toolCallSse("mcp__demo__echo", { text: `again ${n}` }, `call_${n++}`);
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "x" });
    const message = await client.beta.messages.create({ model: "gpt-4o", max_tokens: 100, tools: [clientTool], messages: [{ role: "user", content: "loop" }] });
    expect(upstream.received).toHaveLength(4);
    expect(message.stop_reason).toBe("pause_turn");
    const uses = message.content.filter((b) => b.type === "mcp_tool_use");
    const results = message.content.filter((b) => b.type === "mcp_tool_result");
    expect(uses).toHaveLength(4);
    expect(results).toHaveLength(4);
    const last = results[3];
    expect(last?.type === "mcp_tool_result" && last.is_error).toBe(true);
    expect(JSON.stringify(last)).toContain("POLICY_MAX_STEPS=4");
  });

  test("a client-owned tool ends the turn and goes back to the client, as without lynkr tools", async () => {
    upstream.received.length = 0;
    script = () => toolCallSse("Bash", { command: "ls" });
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "x" });
    const message = await client.beta.messages.create({ model: "gpt-4o", max_tokens: 100, tools: [clientTool], messages: [{ role: "user", content: "list" }] });
    expect(upstream.received).toHaveLength(1);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content.map((b) => b.type)).toEqual(["tool_use"]);
  });

  test("a client that disconnects while lynkr runs a tool: the call is cancelled, the model is not called again, the request ends", async () => {
    upstream.received.length = 0;
    script = () => toolCallSse("mcp__demo__sleep", { ms: 60_000 });
    const controller = new AbortController();
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", max_tokens: 100, stream: true, tools: [clientTool], messages: [{ role: "user", content: "sleep" }] }),
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let seen = "";
    while (!seen.includes('"mcp_tool_use"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before the tool call: ${seen}`);
      seen += new TextDecoder().decode(value);
    }
    controller.abort();
    for (let i = 0; i < 200 && gateway.gateway.lifecycle.active > 0; i++) await Bun.sleep(50);
    expect(gateway.gateway.lifecycle.active).toBe(0);
    expect(upstream.received).toHaveLength(1);
  });

  test("a tool that outlasts POLICY_TOOL_TIMEOUT_MS gives an error result and the loop goes on", async () => {
    upstream.received.length = 0;
    const timed = startTestGateway({
      MODEL_PROVIDER: "openai",
      OPENAI_API_KEY: "sk-test",
      OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`,
      LYNKR_MCP_CONFIG: writeMcpConfig(),
      POLICY_TOOL_TIMEOUT_MS: "500",
    });
    try {
      await mcpReady(timed);
      script = (body) => (body.messages.some((m) => m.role === "tool") ? textSse("it timed out") : toolCallSse("mcp__demo__sleep", { ms: 20_000 }));
      const client = new Anthropic({ baseURL: timed.url, apiKey: "x" });
      const message = await client.beta.messages.create({ model: "gpt-4o", max_tokens: 100, tools: [clientTool], messages: [{ role: "user", content: "sleep" }] });
      const result = message.content.find((b) => b.type === "mcp_tool_result");
      expect(result?.type === "mcp_tool_result" && result.is_error).toBe(true);
      expect(JSON.stringify(result)).toContain("did not answer within 500 ms");
      expect(message.content.at(-1)?.type === "text" && message.content.at(-1)).toMatchObject({ text: "it timed out" });
    } finally {
      await timed.shutdown();
    }
  });
});

describe("Ollama wire", () => {
  let ollama: FakeOllama;
  let gateway: Gateway;

  const line = (message: Record<string, unknown>, done = false, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ model: "coder:7b", created_at: "2026-11-25T10:00:00Z", message: { role: "assistant", content: "", ...message }, done, ...extra });
  const doneLine = line({}, true, { done_reason: "stop", prompt_eval_count: 90, eval_count: 3 });

  beforeAll(async () => {
    ollama = startFakeOllama({ "coder:7b": { capabilities: ["completion", "tools"], contextLength: 32768 } }, (req) => {
      const body = req.json as { messages: { role: string; content: string }[] };
      const result = body.messages.find((m) => m.role === "tool");
      if (!result) return ndjsonResponse([line({ tool_calls: [{ function: { name: "mcp__demo__echo", arguments: { text: "from ollama" } } }] }), doneLine]);
      return ndjsonResponse([line({ content: `Got: ${result.content}` }), doneLine]);
    });
    gateway = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b", LYNKR_MCP_CONFIG: writeMcpConfig() });
    await mcpReady(gateway);
  });
  afterAll(async () => {
    await gateway.shutdown();
    await ollama.stop();
  });

  test("the model calls mcp__demo__echo: the second /api/chat holds the result, the client gets the whole turn", async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "x" });
    const message = await client.beta.messages
      .stream({ model: "coder:7b", max_tokens: 100, tools: [clientTool], messages: [{ role: "user", content: "echo" }] })
      .finalMessage();
    expect(ollama.chats()).toHaveLength(2);
    expect(JSON.stringify(ollama.chats()[1]?.json)).toContain("echo: from ollama");
    expect(message.content.map((b) => b.type)).toEqual(["mcp_tool_use", "mcp_tool_result", "text"]);
    expect(message.content[2]?.type === "text" && message.content[2].text).toBe("Got: echo: from ollama");
  });
});

describe("Anthropic wire", () => {
  test("lynkr's MCP tools run beside Anthropic's own server tools, which pass through; thinking stays in the turn", async () => {
    const config = writeMcpConfig();
    const step1 = anthropicSse(turnEvents({ blocks: [{ type: "thinking", thinking: "Use echo.", signature: "sig-1" }, { type: "tool_use", name: "mcp__demo__echo", input: { text: "claude" } }] }, "claude-x")).join("");
    const step2 = anthropicSse(turnEvents({ blocks: [{ type: "text", text: "Echoed." }] }, "claude-x")).join("");
    await throughFakeUpstream(
      (req) => new Response(JSON.stringify(req.json).includes('"tool_result"') ? step2 : step1, { headers: { "content-type": "text/event-stream" } }),
      { ANTHROPIC_API_KEY: "sk-ant", LYNKR_MCP_CONFIG: config },
      async ({ upstream, gateway }) => {
        await mcpReady(gateway);
        const client = new Anthropic({ baseURL: gateway.url, apiKey: "x" });
        const message = await client.beta.messages
          .stream({
            model: "claude-x",
            max_tokens: 100,
            thinking: { type: "enabled", budget_tokens: 1024 },
            tools: [clientTool, { type: "web_search_20250305", name: "web_search" }],
            messages: [{ role: "user", content: "echo" }],
          })
          .finalMessage();
        expect(message.content.map((b) => b.type)).toEqual(["thinking", "mcp_tool_use", "mcp_tool_result", "text"]);
        const first = upstream.received[0]?.json as { tools: { name: string; type?: string }[] };
        expect(first.tools.map((t) => t.name)).toEqual(["Bash", "web_search", "mcp__demo__echo", "mcp__demo__sleep", "mcp__demo__crash", "mcp__demo__env", "mcp__demo__add_tool"]);
        expect(first.tools[1]).toEqual({ type: "web_search_20250305", name: "web_search" });
        const second = upstream.received[1]?.json as { messages: { role: string; content: { type: string; [k: string]: unknown }[] }[] };
        const [assistant, user] = second.messages.slice(-2);
        expect(assistant?.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
        expect(assistant?.content[0]).toMatchObject({ thinking: "Use echo.", signature: "sig-1" });
        expect(assistant?.content[1]).toMatchObject({ name: "mcp__demo__echo", input: { text: "claude" } });
        expect(user?.content[0]).toMatchObject({ type: "tool_result", tool_use_id: assistant?.content[1]?.id, content: "echo: claude" });
      },
    );
  });
});
