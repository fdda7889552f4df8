import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runClaudeCode, tempGitRepo } from "../helpers/claude-code.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { startScriptedAnthropic, type ScriptedUpstream } from "../helpers/scripted-anthropic.ts";

// The real Claude Code CLI through a gateway with every operations feature on: it authenticates
// with a lynkr key (which never reaches the upstream), stays within limits and budgets, stops at
// once on a wrong key, and a repeated session gets its final answer from the prompt cache.

const lynkrKey = "lynkr-e2e-key-5f2a9c";
const finalText = "notes.txt says: remember the milk";

let upstream: ScriptedUpstream;
let gateway: ReturnType<typeof startTestGateway>;
let repo: string;

beforeAll(async () => {
  repo = await tempGitRepo({ "notes.txt": "remember the milk\n" });
  upstream = startScriptedAnthropic([
    // A fixed tool id, so a repeated session sends byte-for-byte the same second request.
    { blocks: [{ type: "tool_use", id: "toolu_01OperationsE2e", name: "Read", input: { file_path: join(repo, "notes.txt") } }] },
    { blocks: [{ type: "text", text: finalText }] },
  ]);
  // Budgets refuse unpriced models: Claude Code's own claude-opus-5-5 is in the default price table.
  gateway = startTestGateway({
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    ANTHROPIC_UPSTREAM_API_KEY: "sk-ant-upstream-e2e",
    LYNKR_API_KEYS: `dev:${lynkrKey}`,
    RATE_LIMIT_REQUESTS_PER_MINUTE: "600",
    RATE_LIMIT_TOKENS_PER_MINUTE: "10000000",
    BUDGET_SESSION_USD: "5",
    BUDGET_KEY_DAILY_USD: "50",
    BUDGET_DAILY_USD: "500",
    PROMPT_CACHE_ENABLED: "true",
  });
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
});

// One home for every run, as a user has: the system prompt names its memory folder.
const home = tempDir("lynkr-cc-home-");
const ask = (key: string) =>
  runClaudeCode({
    baseUrl: gateway.url,
    prompt: "What does notes.txt say?",
    cwd: repo,
    allowedTools: ["Read"],
    env: { ANTHROPIC_API_KEY: key, HOME: home, CLAUDE_CONFIG_DIR: join(home, ".claude") },
  });

test("Claude Code works with a lynkr key, and the key never reaches the upstream", async () => {
  const run = await ask(lynkrKey);
  if (run.code !== 0) console.error(run.stdout, run.stderr);
  expect(run.code).toBe(0);
  expect(run.json?.result).toBe(finalText);
  expect(upstream.mainLoop).toHaveLength(2);
  for (const req of [...upstream.mainLoop, ...upstream.other]) {
    expect(req.headers.get("x-api-key")).toBe("sk-ant-upstream-e2e");
    expect(req.headers.get("authorization")).toBeNull();
    expect(req.text).not.toContain(lynkrKey);
  }
});

test("a repeated session gets its final answer from the prompt cache", async () => {
  const calls = upstream.mainLoop.length;
  const run = await ask(lynkrKey);
  expect(run.code).toBe(0);
  expect(run.json?.result).toBe(finalText);
  // The tool call is asked again (tool turns are never cached); the answer after it is a hit.
  expect(upstream.mainLoop.length - calls).toBe(1);
  const metrics = (await (await fetch(`${gateway.url}/metrics/observability`, { headers: { "x-api-key": lynkrKey } })).json()) as { cache: { hit?: number } };
  expect(metrics.cache.hit).toBeGreaterThanOrEqual(1);
});

test("a wrong key stops Claude Code at once instead of retrying", async () => {
  const started = Date.now();
  const calls = upstream.received.length;
  const run = await ask("not-a-lynkr-key-000");
  expect(run.code).toBe(1);
  expect(run.json?.is_error).toBe(true);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(upstream.received.length).toBe(calls);
});
