import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { chatChunk, openAiSse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { lynkrFromSource, repoRoot, spawnLynkr } from "../helpers/lynkr-process.ts";
import { refusedUrl } from "../helpers/ports.ts";
import { splitWrapArgs } from "../../src/cli/commands/wrap.ts";
import { clientEnv } from "../../src/cli/wrap/client-env.ts";
import { loadConfig } from "../../src/config/load.ts";

// `lynkr wrap -- claude -p …`: the real Claude Code CLI through a gateway that wrap starts (or
// finds), against a fake OpenAI-compatible upstream. No ANTHROPIC_API_KEY in the environment:
// wrap must give Claude Code one, or it answers "Not logged in".

const answer = "Hello from the fake upstream.";
let upstream: FakeUpstream;

beforeAll(() => {
  upstream = startFakeUpstream(() => {
    const words = answer.split(/(?<= )/).map((w) => chatChunk({ content: w }));
    const usage = chatChunk({}, null, { choices: [], usage: { prompt_tokens: 9000, completion_tokens: 12, total_tokens: 9012, prompt_tokens_details: { cached_tokens: 8000 } } });
    return new Response(openAiSse([chatChunk({ role: "assistant", content: "" }), ...words, chatChunk({}, "stop"), usage]).join(""), {
      headers: { "content-type": "text/event-stream" },
    });
  });
});
afterAll(() => upstream.stop());

function wrapEnv(home: string, port: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${join(repoRoot, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
    HOME: home,
    PORT: port,
    MODEL_PROVIDER: "openai",
    OPENAI_API_KEY: "sk-wrap-test",
    OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`,
    OPENAI_MODEL: "gpt-4o",
    PROMPT_CACHE_ENABLED: "false",
    CLAUDE_CONFIG_DIR: join(home, ".claude"),
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_RETRIES: "1",
    ...extra,
  };
}

const freePort = () => new URL(refusedUrl()).port;

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

test("wrap's own flags come before the command; everything after belongs to the command", () => {
  expect(splitWrapArgs(["--", "claude", "-p", "hi"])).toMatchObject({ quiet: false, command: ["claude", "-p", "hi"] });
  expect(splitWrapArgs(["--quiet", "claude", "--quiet"])).toMatchObject({ quiet: true, command: ["claude", "--quiet"] });
  expect(splitWrapArgs(["--env-file", "x.env", "--", "sh"])).toMatchObject({ envFile: "x.env", command: ["sh"] });
  expect(splitWrapArgs(["--"])).toBe("no command given");
  expect(splitWrapArgs(["-p", "claude"])).toContain("unknown option -p");
});

test("lynkr wrap -- claude -p: the answer, a summary, exit 0, and no gateway left behind", async () => {
  const home = tempDir("lynkr-wrap-");
  const result = await runCli(["wrap", "--", "claude", "-p", "Say hello"], wrapEnv(home, freePort()), home);
  expect(result.stderr).not.toContain("Not logged in");
  expect(result.stdout).toContain(answer);
  expect(result.code).toBe(0);
  const started = /gateway on (http:\/\/127\.0\.0\.1:\d+)/.exec(result.stderr)?.[1];
  expect(started).toBeDefined();
  expect(result.stderr).toMatch(/lynkr: [1-9]\d* requests? in [\d.]+s via openai; [\d,]+ input tokens \([\d,]+ cached\), [\d,]+ output; \$[\d.]+; 0 fallbacks; 0 errors; gateway stopped\./);
  expect(result.stderr).toMatch(/log .*\.lynkr\/logs\/wrap-.*\.log/);
  // The gateway ran inside wrap's process: gone with it.
  expect(await refused(started as string)).toBe(true);
}, 120_000);

test("the wrapped command's exit code comes back; --quiet prints nothing of lynkr's", async () => {
  const home = tempDir("lynkr-wrap-");
  const result = await runCli(["wrap", "--quiet", "--", "sh", "-c", 'test -n "$ANTHROPIC_BASE_URL" && test -n "$ANTHROPIC_API_KEY" && exit 7'], wrapEnv(home, freePort()), home);
  expect(result.code).toBe(7);
  expect(result.stderr).toBe("");
});

test("a command that does not exist: exit 127 and a message", async () => {
  const home = tempDir("lynkr-wrap-");
  const result = await runCli(["wrap", "--", "no-such-command-lynkr"], wrapEnv(home, freePort()), home);
  expect(result.code).toBe(127);
  expect(result.stderr).toContain("cannot run no-such-command-lynkr");
});

test("a lynkr of the same configuration on the port is reused (and left running); one configured otherwise is not", async () => {
  const home = tempDir("lynkr-wrap-");
  const port = freePort();
  const env = wrapEnv(home, port);
  const running = await spawnLynkr(lynkrFromSource, env, home);
  try {
    const reused = await runCli(["wrap", "--", "claude", "-p", "Say hello"], env, home);
    expect(reused.stdout).toContain(answer);
    expect(reused.code).toBe(0);
    expect(reused.stderr).toContain(`using the lynkr already running at http://127.0.0.1:${port}`);
    expect(reused.stderr).toContain(`left running`);
    expect(reused.stderr).not.toContain("gateway on");
    expect((await fetch(`${running.url}/health/live`)).status).toBe(200);

    const other = await runCli(["wrap", "--", "sh", "-c", 'echo "$ANTHROPIC_BASE_URL"'], { ...env, OPENAI_MODEL: "gpt-4o-mini" }, home);
    expect(other.code).toBe(0);
    expect(other.stderr).toContain("serves another configuration");
    expect(other.stdout.trim()).not.toBe(`http://127.0.0.1:${port}`);
  } finally {
    await running.stop();
  }
}, 120_000);

test("a signal sent to wrap reaches the command, whose exit code comes back; the gateway stops", async () => {
  const home = tempDir("lynkr-wrap-");
  const proc = Bun.spawn([...lynkrFromSource, "wrap", "--", "sh", "-c", 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'], {
    cwd: home,
    env: wrapEnv(home, freePort()),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toContain("ready");
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(42);
  const stderr = await new Response(proc.stderr).text();
  const started = /gateway on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
  expect(started).toBeDefined();
  expect(stderr).toContain("gateway stopped");
  expect(await refused(started as string)).toBe(true);
});

test("what the command's environment gets: the gateway's URL and the credential Claude Code needs", () => {
  const config = (env: Record<string, string>) => loadConfig({ env: { HOME: "/h", ...env }, cwd: "/nowhere" });
  const url = "http://127.0.0.1:1234";
  expect(clientEnv(config({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-x" }), {}, url)).toEqual({ ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: "lynkr-wrap-placeholder" });
  // The user's own key or login passes through to Anthropic: nothing replaces it.
  expect(clientEnv(config({}), {}, url)).toEqual({ ANTHROPIC_BASE_URL: url });
  expect(clientEnv(config({ ANTHROPIC_UPSTREAM_API_KEY: "sk-ant-own" }), {}, url)).toEqual({ ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: "lynkr-wrap-placeholder" });
  expect(clientEnv(config({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-x" }), { ANTHROPIC_API_KEY: "mine" }, url)).toEqual({ ANTHROPIC_BASE_URL: url });
  expect(clientEnv(config({ LYNKR_API_KEYS: "me:wrap-key-123456,other-key-99999" }), {}, url)).toEqual({ ANTHROPIC_BASE_URL: url, ANTHROPIC_AUTH_TOKEN: "wrap-key-123456" });
});

test("lynkr code ARGS… is lynkr wrap claude ARGS…", async () => {
  const home = tempDir("lynkr-wrap-");
  const result = await runCli(["code", "--version"], wrapEnv(home, freePort()), home);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain("Claude Code");
  expect(result.stderr).toContain("gateway stopped");
});
