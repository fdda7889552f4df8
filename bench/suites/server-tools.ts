import { chatChunk, openAiSse } from "../../test/helpers/fake-upstream.ts";
import { writeMcpConfig } from "../../test/helpers/mcp-config.ts";
import { latencyAgainstBaseline, recordedClaudeCodeRequest, startGatewayInProcess, timeEach, type BenchSection, type BenchGateway } from "../lib.ts";

// What lynkr's own tools cost a Claude Code request on an OpenAI-wire model: the recorded
// Claude Code request (~50 KB) with no MCP server (baseline), with an MCP server whose 5 tools
// are offered but not called, and with one call of mcp__demo__echo (a stdio child of lynkr)
// between two model calls. The upstream answers at once, so the figures are lynkr's own work
// plus one extra loopback model call in the last row.

const requests = 100;
const warmup = 10;

const usage = chatChunk({}, null, { choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } });
const textSse = openAiSse([chatChunk({ role: "assistant", content: "ok" }), chatChunk({}, "stop"), usage]).join("");
const toolSse = openAiSse([
  chatChunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "mcp__demo__echo", arguments: '{"text":"bench"}' } }] }),
  chatChunk({}, "tool_calls"),
  usage,
]).join("");

/** Calls the echo tool when it is offered and no result is in the conversation yet; else answers. */
function startModel(callTool: boolean) {
  let requestsSeen = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      requestsSeen++;
      const body = await req.text();
      const call = callTool && body.includes('"mcp__demo__echo"') && !body.includes('"role":"tool"');
      return new Response(call ? toolSse : textSse, { headers: { "content-type": "text/event-stream" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests: () => requestsSeen, stop: () => server.stop(true) };
}

async function mcpReady(gateway: BenchGateway): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const health = (await (await fetch(`${gateway.url}/health/ready`)).json()) as { mcp?: { servers: { state: string }[] } };
    if (health.mcp?.servers.every((s) => s.state === "ready")) return;
    await Bun.sleep(50);
  }
  throw new Error("the bench MCP server did not become ready");
}

async function timings(withMcp: boolean, callTool: boolean): Promise<number[]> {
  const model = startModel(callTool);
  const gateway = startGatewayInProcess({
    MODEL_PROVIDER: "openai",
    OPENAI_API_KEY: "sk-bench",
    OPENAI_ENDPOINT: `${model.url}/v1/chat/completions`,
    ...(withMcp ? { LYNKR_MCP_CONFIG: writeMcpConfig() } : {}),
  });
  const recorded = await recordedClaudeCodeRequest();
  const body = JSON.stringify(recorded.body);
  const call = async () => {
    const res = await fetch(`${gateway.url}${recorded.path}`, { method: "POST", headers: { ...recorded.headers, "x-api-key": "k" }, body });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`bench request failed: HTTP ${res.status} ${text}`);
    if (callTool && !text.includes("mcp_tool_result")) throw new Error("the bench turn did not run the MCP tool");
  };
  try {
    if (withMcp) await mcpReady(gateway);
    await timeEach(warmup, call);
    const before = model.requests();
    const times = await timeEach(requests, call);
    const expected = requests * (callTool ? 2 : 1);
    if (model.requests() - before < expected) throw new Error(`only ${model.requests() - before} of ${expected} model calls reached the fake upstream`);
    return times;
  } finally {
    await gateway.stop();
    await model.stop();
  }
}

export default async function serverToolsBench(): Promise<BenchSection> {
  const baseline = await timings(false, false);
  const offered = await timings(true, false);
  const called = await timings(true, true);
  return {
    title: "Server-side tools: a Claude Code request on an OpenAI-wire model",
    ...latencyAgainstBaseline(
      ["no MCP server (baseline)", baseline],
      [
        ["MCP server configured, 5 tools offered, none called", offered],
        ["one mcp__demo__echo call (2 model calls + 1 stdio tool call)", called],
      ],
    ),
    notes: [
      `${requests} sequential streaming requests per scenario after ${warmup} warm-up requests, gateway in process, loopback fake upstream answering at once.`,
      "Rows run in order in one process: the first also pays for warming the JIT, so a small negative difference in the second row is noise, not a saving.",
    ],
  };
}
