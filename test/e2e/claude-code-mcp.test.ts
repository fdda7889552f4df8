import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { runClaudeCode } from "../helpers/claude-code.ts";
import { chatChunk, openAiSse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { writeMcpConfig } from "../helpers/mcp-config.ts";

// The real Claude Code CLI with an MCP server that lynkr runs (not Claude Code): the model calls
// mcp__demo__echo, lynkr runs it inside the CLI's request, and the CLI takes the streamed
// mcp_tool_use / mcp_tool_result blocks and the final text as it would from Anthropic.

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;

const usage = chatChunk({}, null, { choices: [], usage: { prompt_tokens: 500, completion_tokens: 20, total_tokens: 520 } });

function answer(body: ChatCompletionCreateParams): string[] {
  const names = (body.tools ?? []).map((t) => (t.type === "function" ? t.function.name : ""));
  const result = body.messages.find((m) => m.role === "tool");
  if (!names.includes("mcp__demo__echo")) return openAiSse([chatChunk({ role: "assistant", content: "ok" }), chatChunk({}, "stop"), usage]);
  if (!result) {
    return openAiSse([
      chatChunk({ tool_calls: [{ index: 0, id: "call_echo", type: "function", function: { name: "mcp__demo__echo", arguments: JSON.stringify({ text: "from the gateway" }) } }] }),
      chatChunk({}, "tool_calls"),
      usage,
    ]);
  }
  const content = typeof result.content === "string" ? result.content : JSON.stringify(result.content);
  return openAiSse([chatChunk({ role: "assistant", content: `The tool answered: ${content}` }), chatChunk({}, "stop"), usage]);
}

beforeAll(async () => {
  upstream = startFakeUpstream((req) => new Response(answer(req.json as ChatCompletionCreateParams).join(""), { headers: { "content-type": "text/event-stream" } }));
  gateway = startTestGateway({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-e2e", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`, LYNKR_MCP_CONFIG: writeMcpConfig() });
  await gateway.gateway.serverTools.mcp.settled();
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
});

test("claude -p: a tool of lynkr's MCP server runs inside the CLI's request and the CLI shows the answer", async () => {
  const result = await runClaudeCode({ baseUrl: gateway.url, prompt: "Call the echo tool with 'from the gateway' and tell me what it said." });
  expect(result.json?.is_error, result.stdout + result.stderr).toBe(false);
  expect(result.json?.result).toContain("echo: from the gateway");
});
