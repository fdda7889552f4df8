import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { MessagesRequest } from "../../src/anthropic/schema.ts";
import type { RoutingEventMap } from "../../src/routing/events.ts";
import { runClaudeCode, tempGitRepo } from "../helpers/claude-code.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { refusedUrl } from "../helpers/ports.ts";
import { startScriptedAnthropic, type ScriptedUpstream } from "../helpers/scripted-anthropic.ts";

// The real Claude Code CLI with PREFER_OLLAMA=true while Ollama is down (a refused loopback
// port): every request is routed to Ollama first and must complete on the fallback provider, a
// scripted Anthropic-wire upstream: a Read tool call, then the answer.

const finalText = "hello.txt says: Hello from the fallback";

let cloud: ScriptedUpstream;
let gateway: ReturnType<typeof startTestGateway>;
let repo: string;
const fallbacks: RoutingEventMap["fallback"][] = [];
const answered: RoutingEventMap["answered"][] = [];

beforeAll(async () => {
  repo = await tempGitRepo({ "hello.txt": "Hello from the fallback\n" });
  cloud = startScriptedAnthropic([
    { blocks: [{ type: "tool_use", name: "Read", input: { file_path: join(repo, "hello.txt") } }] },
    { blocks: [{ type: "text", text: finalText }] },
  ]);
  gateway = startTestGateway({
    PREFER_OLLAMA: "true",
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: cloud.url,
    OLLAMA_ENDPOINT: refusedUrl(),
    // Claude Code sends 12 tools; let every request try Ollama first.
    OLLAMA_MAX_TOOLS_FOR_ROUTING: "100",
    // After the first refusal the breaker opens: later calls skip Ollama without touching the network.
    CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1",
  });
  gateway.gateway.router.events.on("fallback", (e) => fallbacks.push(e));
  gateway.gateway.router.events.on("answered", (e) => answered.push(e));
});

afterAll(async () => {
  await gateway.shutdown();
  await cloud.stop();
});

test("with Ollama down, a Claude Code session with a tool call completes on the fallback provider", async () => {
  const run = await runClaudeCode({ baseUrl: gateway.url, prompt: "What does hello.txt say?", cwd: repo, allowedTools: ["Read"] });
  if (run.code !== 0) console.error(run.stdout, run.stderr);
  expect(run.code).toBe(0);
  expect(run.json?.is_error).toBe(false);
  expect(run.json?.result).toBe(finalText);

  // The tool really ran: its result went back to the fallback in the second call.
  const calls = cloud.received.filter((r) => r.url.pathname === "/v1/messages");
  const results = calls.flatMap((r) => (r.json as MessagesRequest).messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])));
  const toolResult = results.find((b) => b.type === "tool_result");
  expect(JSON.stringify(toolResult?.content)).toContain("Hello from the fallback");

  // Every model call went to Ollama first and was answered by the fallback; none failed.
  expect(answered.length).toBe(calls.length);
  expect(answered.every((a) => a.provider === "anthropic" && a.fellBack)).toBe(true);
  expect(calls.length).toBeGreaterThanOrEqual(2);
  expect(fallbacks.map((f) => `${f.from}>${f.to}:${f.reason}`)).toEqual([
    "ollama>anthropic:connection_refused",
    ...calls.slice(1).map(() => "ollama>anthropic:circuit_open"),
  ]);
}, 120_000);
