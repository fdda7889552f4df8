import Anthropic from "@anthropic-ai/sdk";
import type { BetaMessage } from "@anthropic-ai/sdk/resources/beta/messages/messages";
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ChatCompletionCreateParams, ChatCompletionToolMessageParam } from "openai/resources/chat/completions";
import { startFakeSearxng } from "../helpers/fake-searxng.ts";
import { anthropicSse, chatChunk, openAiSse, startFakeUpstream, throughFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { startHttpMcpServer } from "../helpers/mcp-test-server.ts";
import { encodeSnippet } from "../../src/agent/history.ts";

// Anthropic's server tools and MCP connector from an API client, on an OpenAI-wire model:
// web_search through SearxNG with citations and server_tool_use usage, web_fetch of a loopback
// page, max_uses, a request's own mcp_servers; on the Anthropic wire they pass through untouched.

type Gateway = ReturnType<typeof startTestGateway>;
type Script = (body: ChatCompletionCreateParams, results: string[]) => { tool?: { name: string; input: unknown }; text?: string };

const source = { url: "https://docs.example.org/lynkr", title: "Lynkr docs", content: "Lynkr speaks the Anthropic API to any model.", publishedDate: "2026-10-01" };
let upstream: FakeUpstream;
let searx: ReturnType<typeof startFakeSearxng>;
let pages: ReturnType<typeof Bun.serve>;
let gateway: Gateway;
let script: Script;
let calls = 0;

function sse(body: ChatCompletionCreateParams): Response {
  const results = body.messages.filter((m): m is ChatCompletionToolMessageParam => m.role === "tool").map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)));
  const { tool, text } = script(body, results);
  const usage = chatChunk({}, null, { choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } });
  const chunks = tool
    ? [chatChunk({ tool_calls: [{ index: 0, id: `call_${calls++}`, type: "function", function: { name: tool.name, arguments: JSON.stringify(tool.input) } }] }), chatChunk({}, "tool_calls"), usage]
    : [chatChunk({ role: "assistant", content: text ?? "" }), chatChunk({}, "stop"), usage];
  return new Response(openAiSse(chunks).join(""), { headers: { "content-type": "text/event-stream" } });
}

beforeAll(() => {
  upstream = startFakeUpstream((req) => sse(req.json as ChatCompletionCreateParams));
  searx = startFakeSearxng([source, { url: "https://blocked.example.com/x", title: "Blocked", content: "nope" }]);
  pages = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<h1>Local page</h1><p>served on loopback</p>", { headers: { "content-type": "text/html" } }) });
  gateway = startTestGateway({
    MODEL_PROVIDER: "openai",
    OPENAI_API_KEY: "sk-test",
    OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`,
    WEB_SEARCH_ENDPOINT: searx.url,
    WEB_FETCH_ALLOW_PRIVATE: "true",
  });
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
  await searx.stop();
  pages.stop(true);
});

const client = () => new Anthropic({ baseURL: gateway.url, apiKey: "x" });

test("web_search: the client gets server_tool_use, web_search_tool_result, cited text and usage.server_tool_use", async () => {
  upstream.received.length = 0;
  script = (_body, results) => (results.length === 0 ? { tool: { name: "web_search", input: { query: "what is lynkr" } } } : { text: `Lynkr is a gateway (see ${source.url}).` });
  const stream = client().beta.messages.stream({
    model: "gpt-4o",
    max_tokens: 100,
    tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3, blocked_domains: ["blocked.example.com"] }],
    messages: [{ role: "user", content: "What is lynkr?" }],
  });
  const message: BetaMessage = await stream.finalMessage();
  expect(message.content.map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
  const [use, result, text] = message.content;
  expect(use).toMatchObject({ type: "server_tool_use", name: "web_search", input: { query: "what is lynkr" } });
  expect(use?.type === "server_tool_use" && use.id).toStartWith("srvtoolu_lynkr_");
  expect(result?.type === "web_search_tool_result" && result.tool_use_id).toBe(use?.type === "server_tool_use" ? use.id : "");
  const results = result?.type === "web_search_tool_result" && Array.isArray(result.content) ? result.content : [];
  expect(results.map((r) => ({ url: r.url, title: r.title, page_age: r.page_age }))).toEqual([{ url: source.url, title: source.title, page_age: "2026-10-01" }]);
  expect(text?.type === "text" && text.citations?.[0]).toMatchObject({ type: "web_search_result_location", url: source.url, title: source.title, cited_text: source.content });
  expect(message.usage.server_tool_use).toMatchObject({ web_search_requests: 1, web_fetch_requests: 0 });
  // The model read the snippet; the client's history carries it back next turn.
  const second = upstream.received[1]?.json as ChatCompletionCreateParams;
  expect(JSON.stringify(second.messages)).toContain(source.content);
  expect(searx.queries()).toContain("what is lynkr");

  upstream.received.length = 0;
  script = () => ({ text: "ok" });
  await client().beta.messages.create({
    model: "gpt-4o",
    max_tokens: 100,
    tools: [{ type: "web_search_20250305", name: "web_search" }],
    messages: [{ role: "user", content: "What is lynkr?" }, { role: "assistant", content: message.content as never }, { role: "user", content: "Thanks" }],
  });
  const next = upstream.received[0]?.json as ChatCompletionCreateParams;
  expect(next.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant", "user"]);
  expect(JSON.stringify(next.messages[2])).toContain(source.content);
});

test("web_fetch: a loopback page (WEB_FETCH_ALLOW_PRIVATE=true) comes back as a document; max_uses is honoured", async () => {
  const url = `http://127.0.0.1:${pages.port}/`;
  script = (_body, results) => (results.length < 2 ? { tool: { name: "web_fetch", input: { url } } } : { text: "Read it." });
  const message = await client().beta.messages.create({
    model: "gpt-4o",
    max_tokens: 100,
    tools: [{ type: "web_fetch_20250910", name: "web_fetch", max_uses: 1 }],
    messages: [{ role: "user", content: `Read ${url}` }],
  });
  expect(message.content.map((b) => b.type)).toEqual(["server_tool_use", "web_fetch_tool_result", "server_tool_use", "web_fetch_tool_result", "text"]);
  const fetched = message.content[1];
  expect(fetched?.type === "web_fetch_tool_result" && fetched.content).toMatchObject({
    type: "web_fetch_result",
    url,
    content: { type: "document", source: { type: "text", media_type: "text/plain", data: "# Local page\n\nserved on loopback" } },
  });
  expect(message.content[3]?.type === "web_fetch_tool_result" && message.content[3].content).toEqual({ type: "web_fetch_tool_result_error", error_code: "max_uses_exceeded" });
  expect(message.usage.server_tool_use?.web_fetch_requests).toBe(1);
});

test("a request's own mcp_servers (Anthropic's MCP connector) are connected and run by lynkr", async () => {
  const mcp = startHttpMcpServer();
  try {
    script = (_body, results) => (results.length === 0 ? { tool: { name: "mcp__remote__echo", input: { text: "connector" } } } : { text: results[0] ?? "" });
    const message = await client().beta.messages.create({
      model: "gpt-4o",
      max_tokens: 100,
      mcp_servers: [{ type: "url", name: "remote", url: mcp.url, tool_configuration: { allowed_tools: ["echo"] } }],
      messages: [{ role: "user", content: "echo" }],
      betas: ["mcp-client-2025-04-04"],
    });
    const offered = (upstream.received.at(-2)?.json as ChatCompletionCreateParams).tools?.map((t) => (t.type === "function" ? t.function.name : ""));
    expect(offered).toEqual(["mcp__remote__echo"]);
    expect(message.content.map((b) => b.type)).toEqual(["mcp_tool_use", "mcp_tool_result", "text"]);
    expect(message.content[0]).toMatchObject({ name: "echo", server_name: "remote" });
    expect(message.content[2]?.type === "text" && message.content[2].text).toBe("echo: connector");
  } finally {
    await mcp.stop();
  }
});

test("without WEB_SEARCH_ENDPOINT, web_search on a non-Anthropic backend is a clear 400; private mcp_servers URLs are refused", async () => {
  await throughFakeUpstream(() => new Response("unused"), { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` }, async ({ gateway: gw }) => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", max_tokens: 10, tools: [{ type: "web_search_20250305", name: "web_search" }], messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("WEB_SEARCH_ENDPOINT");
    const bad = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", max_tokens: 10, tools: [{ type: "web_fetch_20250910", name: "web_fetch", max_uses: -1 }], messages: [{ role: "user", content: "hi" }] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("tools.web_fetch: max_uses");
    // Nor may a client point lynkr at a private address through mcp_servers.
    const private_ = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", max_tokens: 10, mcp_servers: [{ type: "url", name: "inside", url: "http://127.0.0.1:9/mcp" }], messages: [{ role: "user", content: "hi" }] }),
    });
    expect(private_.status).toBe(400);
    expect(((await private_.json()) as { error: { message: string } }).error.message).toContain("mcp_servers.inside: 127.0.0.1 resolves to 127.0.0.1");
  });
});

/** An Anthropic stream that answers with nothing: what these tests check is the request. */
const events = anthropicSse([
  { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } },
  { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } },
  { type: "message_stop" },
]).join("");

test("on the Anthropic wire, server tools and mcp_servers pass through untouched (the client's bytes)", async () => {
  await throughFakeUpstream(() => new Response(events, { headers: { "content-type": "text/event-stream" } }), { ANTHROPIC_API_KEY: "sk-ant" }, async ({ upstream: anthropic, gateway: gw }) => {
    const body = JSON.stringify({
      model: "claude",
      max_tokens: 10,
      stream: true,
      tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 2 }, { type: "web_fetch_20250910", name: "web_fetch" }],
      mcp_servers: [{ type: "url", name: "remote", url: "https://mcp.example.com/mcp" }],
      messages: [{ role: "user", content: "hi" }],
    });
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "k" }, body });
    expect(res.status).toBe(200);
    await res.text();
    expect(anthropic.received[0]?.text).toBe(body);
  });
});

type WireBlock = { type: string; id?: string; tool_use_id?: string; text?: string; content?: unknown };
type WireMessage = { role: string; content: string | WireBlock[] };

/** What Anthropic checks of a history, as far as server tools go: the reason for a 400, or undefined. */
function anthropicHistoryProblem(messages: WireMessage[], madeByAnthropic: Set<string>): string | undefined {
  for (const [i, m] of messages.entries()) {
    if (typeof m.content === "string") continue;
    for (const block of m.content) {
      if (block.type === "text" && !block.text) return `messages.${i}: text content blocks must be non-empty`;
      if ((block.type === "server_tool_use" || block.type === "mcp_tool_use") && !madeByAnthropic.has(String(block.id))) return `messages.${i}: unknown ${block.type} id ${block.id}`;
      if (block.type.endsWith("_tool_result") && block.type !== "tool_result" && !m.content.some((b) => b.type.endsWith("_tool_use") && b.id === block.tool_use_id)) {
        return `messages.${i}: ${block.type} without its server_tool_use`;
      }
      if (block.type === "web_search_tool_result" && JSON.stringify(block.content).includes('"encrypted_content":"lynkr:')) return `messages.${i}: invalid encrypted_content`;
    }
  }
  return undefined;
}

test("a history with server tools lynkr ran, sent on to Anthropic's wire: lynkr's blocks become text, Anthropic's own pass untouched", async () => {
  const genuine = [
    { type: "server_tool_use", id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE", name: "web_search", input: { query: "anthropic" } },
    { type: "web_search_tool_result", tool_use_id: "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE", content: [{ type: "web_search_result", url: "https://www.anthropic.com", title: "Anthropic", page_age: null, encrypted_content: "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y2Q" }] },
  ];
  const anthropicIds = new Set(["srvtoolu_01WYG3ziw53XMcoyKL4XcZmE"]);
  const upstreamAnswer = (req: { json: unknown }) => {
    const problem = anthropicHistoryProblem((req.json as { messages: WireMessage[] }).messages, anthropicIds);
    return problem
      ? new Response(JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: problem } }), { status: 400, headers: { "content-type": "application/json" } })
      : new Response(events, { headers: { "content-type": "text/event-stream" } });
  };
  await throughFakeUpstream(upstreamAnswer, { ANTHROPIC_API_KEY: "sk-ant" }, async ({ upstream: anthropic, gateway: gw }) => {
    const messages = [
      { role: "user", content: "what is lynkr? then read its page" },
      {
        role: "assistant",
        content: [
          // A search lynkr ran before ids carried its mark (known by its encoding), and a fetch with the mark.
          { type: "server_tool_use", id: "srvtoolu_5f1c0a9e8d7b6a5f4e3d2c1b", name: "web_search", input: { query: "what is lynkr" } },
          { type: "web_search_tool_result", tool_use_id: "srvtoolu_5f1c0a9e8d7b6a5f4e3d2c1b", content: [{ type: "web_search_result", url: source.url, title: source.title, page_age: null, encrypted_content: encodeSnippet(source.content) }] },
          { type: "server_tool_use", id: "srvtoolu_lynkr_0a1b2c3d4e5f60718293a4b5", name: "web_fetch", input: { url: source.url } },
          { type: "web_fetch_tool_result", tool_use_id: "srvtoolu_lynkr_0a1b2c3d4e5f60718293a4b5", content: { type: "web_fetch_result", url: source.url, content: { type: "document", source: { type: "text", media_type: "text/plain", data: "Lynkr page text" } } } },
          // A call lynkr made to the request's own connector server.
          { type: "mcp_tool_use", id: "mcptoolu_lynkr_99aa88bb77cc66dd55ee44ff", name: "echo", server_name: "remote", input: { text: "hi" } },
          { type: "mcp_tool_result", tool_use_id: "mcptoolu_lynkr_99aa88bb77cc66dd55ee44ff", is_error: false, content: [{ type: "text", text: "echo: hi" }] },
          { type: "text", text: "Lynkr is a gateway." },
        ],
      },
      { role: "user", content: "and anthropic?" },
      { role: "assistant", content: [...genuine, { type: "text", text: "A company." }] },
      { role: "user", content: "thanks" },
    ];
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k" },
      body: JSON.stringify({
        model: "claude",
        max_tokens: 10,
        stream: true,
        tools: [{ type: "web_search_20250305", name: "web_search" }, { type: "web_fetch_20250910", name: "web_fetch" }],
        mcp_servers: [{ type: "url", name: "remote", url: "https://mcp.example.com/mcp" }],
        messages,
      }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const sent = (anthropic.received[0]?.json as { messages: WireMessage[] }).messages;
    expect(JSON.stringify(sent)).not.toContain("lynkr:");
    const first = sent[1]?.content as WireBlock[];
    expect(first.map((b) => b.type)).toEqual(["text", "text", "text", "text", "text", "text", "text"]);
    expect(first[1]?.text).toContain(source.content);
    expect(first[3]?.text).toContain("Lynkr page text");
    expect(first[4]?.text).toBe('[remote.echo {"text":"hi"}]');
    expect(first[5]?.text).toBe("echo: hi");
    expect(sent[3]?.content).toEqual([...genuine, { type: "text", text: "A company." }]);
  });
});
