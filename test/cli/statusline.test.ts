import { afterAll, beforeAll, expect, test } from "bun:test";
import { lynkrFromSource } from "../helpers/lynkr-process.ts";
import { refusedUrl } from "../helpers/ports.ts";
import { sessionA, sessionB, settle, startSessionTraffic, type SessionTraffic } from "../helpers/session-traffic.ts";
import { tempDir } from "../helpers/gateway.ts";

// `lynkr statusline` fed what Claude Code pipes to its statusLine command (documented shape:
// session_id, transcript_path, cwd, model{id,display_name}, workspace{current_dir,project_dir},
// version, output_style, cost{…}), for two sessions at once.

let traffic: SessionTraffic;
const clientKey = "statusline-key-123456";

beforeAll(async () => {
  traffic = await startSessionTraffic({ LYNKR_API_KEYS: `cc:${clientKey}` });
  for (const [session, prompt] of [[sessionA, "hello from A"], [sessionA, "again from A"], [sessionB, "hello from B"]] as const) {
    const res = await traffic.send(session, prompt, { authorization: `Bearer ${clientKey}` });
    expect(res.status).toBe(200);
    await res.text();
  }
  await settle(traffic, sessionA, 2);
  await settle(traffic, sessionB, 1);
});
afterAll(() => traffic.stop());

function claudeCodeInput(sessionId: string): string {
  const dir = "/home/me/project";
  return JSON.stringify({
    hook_event_name: "Status",
    session_id: sessionId,
    transcript_path: `/home/me/.claude/projects/x/${sessionId}.jsonl`,
    cwd: dir,
    model: { id: "claude-sonnet-4-5", display_name: "Sonnet 4.5" },
    workspace: { current_dir: dir, project_dir: dir },
    version: "2.1.328",
    output_style: { name: "default" },
    cost: { total_cost_usd: 0, total_duration_ms: 1000, total_api_duration_ms: 500, total_lines_added: 0, total_lines_removed: 0 },
  });
}

/**
 * `live`: a gateway that answers is waited for up to 5 s, so a busy test machine cannot turn
 * figures into the fallback line; the default 200 ms is what Claude Code gets.
 */
async function statusline(input: string, env: Record<string, string>, live = true): Promise<{ code: number; line: string; ms: number }> {
  const started = performance.now();
  const proc = Bun.spawn([...lynkrFromSource, "statusline", ...(live ? ["--timeout", "5000"] : [])], {
    cwd: tempDir(),
    env: { PATH: process.env.PATH ?? "", HOME: tempDir(), ...env },
    stdin: Buffer.from(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, line: out.trimEnd(), ms: performance.now() - started };
}

test("two concurrent sessions each get their own provider, cost, cache share", async () => {
  const env = { ANTHROPIC_BASE_URL: traffic.gateway.url, ANTHROPIC_AUTH_TOKEN: clientKey };
  const [a, b] = await Promise.all([statusline(claudeCodeInput(sessionA), env), statusline(claudeCodeInput(sessionB), env)]);
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
  // A: 2 × (9000 prompt of which 8000 cached) → 89% read from the upstream's cache; B: none.
  expect(a.line).toMatch(/^lynkr ▸ openai · gpt-4o[-\w]* · \$0\.\d{4} · cache 89%$/);
  expect(b.line).toMatch(/^lynkr ▸ openai · gpt-4o[-\w]* · \$0\.\d{4} · cache 0%$/);
  const cost = (line: string) => Number(/\$(\d+\.\d+)/.exec(line)?.[1]);
  expect(cost(a.line)).toBeGreaterThan(cost(b.line));
  expect(a.line.split("\n")).toHaveLength(1);
});

test("a session lynkr has not seen yet: the provider it would use, no error", async () => {
  const { code, line } = await statusline(claudeCodeInput("fresh-session-1"), { ANTHROPIC_BASE_URL: traffic.gateway.url, ANTHROPIC_AUTH_TOKEN: clientKey });
  expect(code).toBe(0);
  expect(line).toBe("lynkr ▸ openai · gpt-4o · no requests yet");
});

test("the per-session endpoint is behind the client keys", async () => {
  const url = `${traffic.gateway.url}/v1/lynkr/sessions/${sessionA}`;
  expect((await fetch(url)).status).toBe(401);
  const res = await fetch(url, { headers: { "x-api-key": clientKey } });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ session_id: sessionA, requests: 2, turns: 2, errors: 0, fallbacks: 0, cache_read_input_tokens: 16000, known: true });
  const { code, line } = await statusline(claudeCodeInput(sessionA), { ANTHROPIC_BASE_URL: traffic.gateway.url, ANTHROPIC_AUTH_TOKEN: "wrong-key-0000" });
  expect(code).toBe(0);
  expect(line).toContain("client key refused");
});

test("gateway down, or input that is not Claude Code's: one fallback line, exit 0", async () => {
  const down = await statusline(claudeCodeInput(sessionA), { ANTHROPIC_BASE_URL: refusedUrl() }, false);
  expect(down).toMatchObject({ code: 0, line: expect.stringMatching(/^lynkr: not running \(http:\/\/127\.0\.0\.1:\d+\)$/) });
  const garbage = await statusline("not json {", { ANTHROPIC_BASE_URL: traffic.gateway.url });
  expect(garbage).toMatchObject({ code: 0, line: "lynkr ▸ ready" });
});

test("a gateway that accepts but never answers does not hold Claude Code's status line", async () => {
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const { code, line, ms } = await statusline(claudeCodeInput(sessionA), { ANTHROPIC_BASE_URL: `http://127.0.0.1:${silent.port}` }, false);
    expect(code).toBe(0);
    expect(line).toContain("lynkr: not running");
    // The wait is bounded by the 200 ms timeout; the bound here only proves it is not a hang.
    expect(ms).toBeLessThan(10_000);
  } finally {
    silent.stop(true);
  }
});

test("a session id that is not one is refused in Anthropic's error shape", async () => {
  const res = await fetch(`${traffic.gateway.url}/v1/lynkr/sessions/${"x".repeat(300)}`, { headers: { "x-api-key": clientKey } });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("session id") } });
});
