import { afterAll, beforeAll, expect, test } from "bun:test";
import { runClaudeCode, tempGitRepo } from "../helpers/claude-code.ts";
import { join } from "node:path";
import { runCli, startTestGateway, tempDir } from "../helpers/gateway.ts";
import { startScriptedAnthropic, type ScriptedUpstream } from "../helpers/scripted-anthropic.ts";

// The memory story through the real Claude Code CLI: a preference stated in one session of
// project A is in every request of the next session of A (after Claude Code's system blocks, the
// same bytes each time), never in project B, visible with `lynkr memory list`, and gone from the
// next session once forgotten.

const preference = "In this repo we always use pnpm, never npm.";

let upstream: ScriptedUpstream;
let gateway: ReturnType<typeof startTestGateway>;
let projectA: string;
let projectB: string;

beforeAll(async () => {
  projectA = await tempGitRepo({ "package.json": '{"name":"a"}\n' });
  projectB = await tempGitRepo({ "package.json": '{"name":"b"}\n' });
  // Every session: one tool call (so it sends two requests), then an answer.
  upstream = startScriptedAnthropic([
    { blocks: [{ type: "tool_use", name: "Bash", input: { command: "ls", description: "List files" } }] },
    { blocks: [{ type: "text", text: "Done." }] },
  ]);
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant-upstream-e2e" });
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
});

// One home for every session, as a user has: Claude Code's system prompt names its folders.
const home = tempDir("lynkr-cc-home-");
const cli = (...args: string[]) => runCli(["memory", ...args], { SESSION_DB_PATH: `${gateway.dir}/lynkr.db` });

/** Runs one session and returns the system blocks of each of its main-loop requests. */
async function session(cwd: string, prompt: string, env: Record<string, string> = {}): Promise<{ text: string; cache_control?: unknown }[][]> {
  const before = upstream.mainLoop.length;
  const run = await runClaudeCode({ baseUrl: gateway.url, prompt, cwd, allowedTools: ["Bash"], env: { HOME: home, CLAUDE_CONFIG_DIR: join(home, ".claude"), ...env } });
  if (run.code !== 0) console.error(run.stdout, run.stderr);
  expect(run.code).toBe(0);
  expect(run.json?.result).toBe("Done.");
  const requests = upstream.mainLoop.slice(before);
  expect(requests.length).toBe(2);
  return requests.map((r) => (r.json as { system: { text: string; cache_control?: unknown }[] }).system);
}

async function memoriesOf(dir: string): Promise<{ id: number; text: string }[]> {
  const { code, stdout, stderr } = await cli("list", "--project", dir, "--json");
  if (code !== 0) throw new Error(stderr);
  return JSON.parse(stdout) as { id: number; text: string }[];
}

test("a preference stated in project A reaches the next session of A, in every request, and never B", async () => {
  const first = await session(projectA, `${preference} Now list the files.`);
  for (const system of first) expect(JSON.stringify(system)).not.toContain("lynkr-memory");

  // Learning happens after the turn, off the response path.
  let stored: { id: number; text: string }[] = [];
  for (let i = 0; i < 100 && stored.length === 0; i++) {
    stored = await memoriesOf(projectA);
    if (stored.length === 0) await Bun.sleep(100);
  }
  expect(stored.map((m) => m.text)).toEqual([preference]);
  expect(await memoriesOf(projectB)).toEqual([]);
  const listed = await cli("list", "--project", projectA);
  expect(listed.stdout).toContain(preference);

  const again = await session(projectA, "Which package manager do I install dependencies with?");
  const [one, two] = again;
  if (!one || !two) throw new Error("expected two requests");
  // Claude Code's own blocks first, untouched (the billing block's hash follows the prompt); the
  // memory block last, the same bytes on every request.
  expect(one.length).toBe((first[0]?.length ?? 0) + 1);
  expect(one.slice(1, -1)).toEqual(first[0]?.slice(1) ?? []);
  expect(one.at(-1)?.text).toContain(`- ${preference}`);
  expect(one.at(-1)?.cache_control).toBeUndefined();
  expect(JSON.stringify(two.at(-1))).toBe(JSON.stringify(one.at(-1)));

  const other = await session(projectB, "Which package manager do I install dependencies with?");
  for (const system of other) expect(JSON.stringify(system)).not.toContain("lynkr-memory");

  // Opting out from Claude Code: its custom headers carry x-lynkr-memory: off.
  const optedOut = await session(projectA, "Which package manager do I install dependencies with?", { ANTHROPIC_CUSTOM_HEADERS: "x-lynkr-memory: off" });
  for (const system of optedOut) expect(JSON.stringify(system)).not.toContain("lynkr-memory");
});

test("a forgotten memory is gone from the next session", async () => {
  const [memory] = await memoriesOf(projectA);
  if (!memory) throw new Error("expected the memory from the first test");
  const forgot = await cli("forget", String(memory.id));
  expect(forgot.code).toBe(0);
  expect(await memoriesOf(projectA)).toEqual([]);
  const after = await session(projectA, "Which package manager do I install dependencies with?");
  for (const system of after) expect(JSON.stringify(system)).not.toContain("lynkr-memory");
});
