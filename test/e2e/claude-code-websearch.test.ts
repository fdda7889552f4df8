import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ChatCompletionCreateParams, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { runClaudeCode } from "../helpers/claude-code.ts";
import { startFakeSearxng } from "../helpers/fake-searxng.ts";
import { chatChunk, openAiSse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";

// The real Claude Code CLI's WebSearch through lynkr to an OpenAI-wire model: the CLI's side
// request offers only Anthropic's web_search server tool; lynkr offers the model a web_search
// function instead, runs the search on a fake SearxNG, and streams server_tool_use +
// web_search_tool_result before the model's text, which is what the CLI needs to use the result.

const codename = "Blue Heron";
const source = { url: "https://news.example.org/lynkr-9", title: "Lynkr 9 codename announced", content: `The next lynkr release is codenamed ${codename}.`, publishedDate: "2026-11-30" };

let upstream: FakeUpstream;
let searx: ReturnType<typeof startFakeSearxng>;
let gateway: ReturnType<typeof startTestGateway>;

const usage = chatChunk({}, null, { choices: [], usage: { prompt_tokens: 500, completion_tokens: 20, total_tokens: 520 } });

function toolCall(name: string, input: unknown): string[] {
  return openAiSse([
    chatChunk({ role: "assistant", content: null }),
    chatChunk({ tool_calls: [{ index: 0, id: `call_${name}`, type: "function", function: { name, arguments: JSON.stringify(input) } }] }),
    chatChunk({}, "tool_calls"),
    usage,
  ]);
}

function text(words: string): string[] {
  return openAiSse([chatChunk({ role: "assistant", content: "" }), ...words.split(/(?<= )/).map((w) => chatChunk({ content: w })), chatChunk({}, "stop"), usage]);
}

const contentOf = (m: ChatCompletionMessageParam) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? ""));

/** The model: decides from what the request offers and what the conversation already holds. */
function answer(body: ChatCompletionCreateParams): string[] {
  const names = (body.tools ?? []).map((t) => (t.type === "function" ? t.function.name : ""));
  const results = body.messages.filter((m) => m.role === "tool").map(contentOf);
  if (names.length === 0) return text("ok");
  // Claude Code's WebSearch side request, as lynkr passes it on: one function tool, web_search.
  if (names.length === 1 && names[0] === "web_search") {
    if (results.length === 0) return toolCall("web_search", { query: "lynkr 9 codename" });
    const found = results.join("\n").includes(codename);
    return text(found ? `The release is codenamed ${codename}, per ${source.url} .` : "Nothing found.");
  }
  // The main loop: load the deferred WebSearch tool, call it, then answer from its result.
  if (!names.includes("WebSearch")) return toolCall("ToolSearch", { query: "select:WebSearch", max_results: 1 });
  const searched = results.find((r) => r.includes("lynkr 9 codename") || r.includes(source.url));
  if (!searched) return toolCall("WebSearch", { query: "lynkr 9 codename" });
  return text(searched.includes(codename) ? `The search says the codename is ${codename}.` : "The search did not find it.");
}

beforeAll(() => {
  upstream = startFakeUpstream((req) => new Response(answer(req.json as ChatCompletionCreateParams).join(""), { headers: { "content-type": "text/event-stream" } }));
  searx = startFakeSearxng([source]);
  gateway = startTestGateway({ OPENAI_API_KEY: "sk-e2e", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`, MODEL_PROVIDER: "openai", WEB_SEARCH_ENDPOINT: searx.url });
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
  await searx.stop();
});

test("claude -p with WebSearch on an OpenAI-wire model: lynkr runs the search and the answer carries the result", async () => {
  const result = await runClaudeCode({
    baseUrl: gateway.url,
    prompt: "Search the web for the codename of lynkr 9 and tell me what it is.",
    allowedTools: ["WebSearch"],
    timeoutMs: 120_000,
  });
  expect(result.json?.is_error, result.stdout + result.stderr).toBe(false);
  expect(searx.queries()).toContain("lynkr 9 codename");
  // The side request reached the model with a function tool, not Anthropic's server tool type.
  const side = upstream.received.map((r) => r.json as ChatCompletionCreateParams).find((b) => b.tools?.length === 1);
  expect(side?.tools?.[0]).toMatchObject({ type: "function", function: { name: "web_search" } });
  // The CLI read the web_search_tool_result block: its WebSearch result lists the link.
  const last = upstream.received.at(-1)?.json as ChatCompletionCreateParams;
  const toolResults = last.messages.filter((m) => m.role === "tool").map(contentOf).join("\n");
  expect(toolResults).toContain(source.url);
  expect(toolResults).toContain(source.title);
  expect(result.json?.result).toContain(codename);
});
