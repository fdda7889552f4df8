import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildBinary, pathWithoutBun } from "../helpers/binary.ts";
import { runClaudeCode, tempGitRepo } from "../helpers/claude-code.ts";
import { tempDir } from "../helpers/gateway.ts";
import { spawnLynkr, type LynkrProcess } from "../helpers/lynkr-process.ts";
import { run } from "../helpers/run.ts";
import { startScriptedAnthropic, type ScriptedUpstream } from "../helpers/scripted-anthropic.ts";

// The "done when": the built executable (`bun run build`), alone in an empty folder and
// run with no Bun on PATH, carries the real Claude Code CLI through a Bash → thinking + Read → Edit
// session against a loopback Anthropic-wire upstream; the file really changes, the final text
// arrives, and every turn is in the SQLite database.

const finalText = "Done: greeting.txt now greets lynkr.";
const signature = "EqQBCkYIBxgCKkBsignedByTheFakeUpstream";

let binary: string;
let repo: string;
let upstream: ScriptedUpstream;
let gateway: LynkrProcess;
let dbPath: string;

beforeAll(async () => {
  binary = await buildBinary();
  repo = await tempGitRepo({ "greeting.txt": "hello world\n", "notes.md": "# notes\n" });
  const file = join(repo, "greeting.txt");
  upstream = startScriptedAnthropic([
    { blocks: [{ type: "text", text: "Let me look around." }, { type: "tool_use", name: "Bash", input: { command: "ls", description: "List files" } }] },
    { blocks: [{ type: "thinking", thinking: "The listing shows greeting.txt; read it first.", signature: signature }, { type: "tool_use", name: "Read", input: { file_path: file } }] },
    { blocks: [{ type: "tool_use", name: "Edit", input: { file_path: file, old_string: "hello world", new_string: "hello lynkr" } }] },
    { blocks: [{ type: "text", text: finalText }] },
  ]);
  const home = tempDir("lynkr-e2e-home-");
  dbPath = join(home, "sessions.db");
  gateway = await spawnLynkr([binary], {
    PATH: pathWithoutBun,
    HOME: home,
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    // The fake upstream stands in for api.anthropic.com, where Claude Code's own key is meant to go.
    ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true",
    SESSION_DB_PATH: dbPath,
  }, home);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await upstream?.stop();
});

test("the built binary runs alone, with no Bun and no node_modules", async () => {
  const { stdout, code } = await run([binary, "--version"], { cwd: tempDir(), env: { PATH: pathWithoutBun } });
  expect(code).toBe(0);
  expect(stdout.trim()).toBe(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version);
  expect(gateway.output()).toContain(`"provider":"anthropic"`);
});

test("Claude Code runs Bash, Read and Edit through dist/lynkr and gets the final text", async () => {
  const result = await runClaudeCode({
    baseUrl: gateway.url,
    prompt: "Change the greeting in greeting.txt to greet lynkr.",
    cwd: repo,
    allowedTools: ["Bash", "Read", "Edit", "Write"],
    timeoutMs: 100_000,
  });
  expect(result.json?.is_error, `${result.stdout}\n${result.stderr}`).toBe(false);
  expect(result.code).toBe(0);
  expect(result.json?.result).toBe(finalText);
  expect(readFileSync(join(repo, "greeting.txt"), "utf8")).toBe("hello lynkr\n");

  // The CLI really ran the tools: each request after the first carries the previous tool's result.
  expect(upstream.mainLoop).toHaveLength(4);
  const lastMessages = (upstream.mainLoop.at(-1)?.json as { messages: { role: string; content: unknown }[] }).messages;
  const results = JSON.stringify(lastMessages.filter((m) => m.role === "user"));
  expect(results).toContain("greeting.txt");
  expect(results).toContain("notes.md"); // ls output
  expect(results).toContain("hello world"); // Read output
  // Thinking goes back to the upstream verbatim, signature included, as Anthropic requires.
  const thinking = lastMessages.flatMap((m) => (Array.isArray(m.content) ? (m.content as { type: string }[]) : [])).filter((b) => b.type === "thinking") as unknown[];
  expect(thinking).toEqual([{ type: "thinking", thinking: "The listing shows greeting.txt; read it first.", signature }]);
  for (const req of upstream.mainLoop) {
    expect(req.url.search).toBe("?beta=true");
    expect(req.headers.get("x-api-key")).toBe("dummy");
  }

  // Every main-loop turn is in the database, in one session, each with only its new messages.
  await gateway.stop();
  const db = new Database(dbPath, { readonly: true });
  try {
    const sessionId = upstream.mainLoop[0]?.headers.get("x-claude-code-session-id");
    const turns = db
      .query<{ session_id: string; status: number; stop_reason: string | null; new_messages: string; history_offset: number; provider: string }, [string]>(
        "SELECT session_id, status, stop_reason, new_messages, history_offset, provider FROM turns WHERE session_id = ? ORDER BY id",
      )
      .all(sessionId ?? "");
    const mainTurns = turns.filter((t) => t.stop_reason === "tool_use" || t.stop_reason === "end_turn");
    expect(mainTurns.map((t) => t.stop_reason).slice(-4)).toEqual(["tool_use", "tool_use", "tool_use", "end_turn"]);
    expect(turns.every((t) => t.status === 200 && t.provider === "anthropic")).toBe(true);
    const last = mainTurns.at(-1);
    expect(last?.history_offset).toBeGreaterThan(0);
    const lastNew = JSON.parse(last?.new_messages ?? "[]") as { role: string }[];
    // Only the previous assistant turn and its tool result are new, not the whole history.
    expect(lastNew.length).toBeLessThan(lastMessages.length);
    expect(db.query<{ n: number }, [string]>("SELECT turn_count AS n FROM sessions WHERE id = ?").get(sessionId ?? "")?.n).toBe(turns.length);
  } finally {
    db.close();
  }
}, 120_000);
