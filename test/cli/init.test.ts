import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, readEnvFile } from "../../src/config/load.ts";
import { quoteEnvValue } from "../../src/cli/init/env-file.ts";
import { jsonResponse } from "../helpers/fake-upstream.ts";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.ts";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { lynkrFromSource, spawnLynkr } from "../helpers/lynkr-process.ts";
import { refusedUrl } from "../helpers/ports.ts";

// `lynkr init` as a process with no terminal (as in scripts and CI): flags and the environment
// answer, the file is checked before it is written, keys never reach the output.

let ollama: FakeOllama;

beforeAll(() => {
  ollama = startFakeOllama({ "coder:7b": { capabilities: ["completion", "tools"], contextLength: 32768 } }, () =>
    jsonResponse({ error: "init must not generate" }, 500),
  );
});

afterAll(async () => {
  await ollama.stop();
});

const freePort = () => new URL(refusedUrl()).port;
const modeOf = (path: string) => statSync(path).mode & 0o777;

/** runCli with HOME = the working folder, as a fresh user account would have. */
async function init(args: string[], env: Record<string, string> = {}, home = tempDir()) {
  const result = await runCli(["init", ...args], env, home);
  return { ...result, home, file: join(home, ".lynkr", ".env") };
}

test("--provider ollama --yes writes a 0600 file in a 0700 folder that lynkr start then uses", async () => {
  const port = freePort();
  const { code, stdout, stderr, home, file } = await init(["--provider", "ollama", "--yes", "--port", port, "--endpoint", ollama.url, "--model", "coder:7b"]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(modeOf(file)).toBe(0o600);
  expect(modeOf(join(home, ".lynkr"))).toBe(0o700);
  expect(readEnvFile(file)).toEqual({ MODEL_PROVIDER: "ollama", PORT: port, OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b" });
  // The same checks as lynkr doctor, against the fake Ollama: reachable, model pulled with tools.
  expect(stdout).toContain(`✔ wrote ${file} (mode 0600)`);
  expect(stdout).toMatch(/✔ provider ollama +.* reachable, 1 model pulled/);
  expect(stdout).toMatch(/✔ ollama model coder:7b +pulled, takes tools/);
  expect(stdout).toContain("all checks passed");
  expect(stdout).toContain(`export ANTHROPIC_BASE_URL=http://127.0.0.1:${port}`);

  // Started from another folder (no ./.env there), with no --env-file and nothing in the environment.
  const elsewhere = tempDir();
  const lynkr = await spawnLynkr(lynkrFromSource, { PATH: process.env.PATH ?? "", HOME: home, PORT: "" }, elsewhere);
  try {
    expect(lynkr.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${lynkr.url}/health/live`)).status).toBe(200);
    expect(lynkr.output()).toContain(`configuration from ${file}`);
    expect(lynkr.output()).toContain("ollama");
  } finally {
    await lynkr.stop();
  }
});

test("a key given by flag or environment is written but never printed, even when the configuration is refused", async () => {
  const key = "sk-or-v1-TOPSECRET-0123456789";
  const fromEnv = await init(["--provider", "openrouter", "--yes", "--no-check", "--port", freePort()], { OPENROUTER_API_KEY: key });
  expect(fromEnv.code).toBe(0);
  expect(readEnvFile(fromEnv.file).OPENROUTER_API_KEY).toBe(key);
  expect(fromEnv.stdout + fromEnv.stderr).not.toContain("TOPSECRET");

  const fromFlag = await init(["--provider", "openrouter", "--yes", "--no-check", "--api-key", key, "--port", "99999"]);
  expect(fromFlag.code).toBe(2);
  expect(fromFlag.stderr).toContain("PORT");
  expect(fromFlag.stdout + fromFlag.stderr).not.toContain("TOPSECRET");
  expect(existsSync(fromFlag.file)).toBe(false);
});

test("a missing key: exit 2 naming the variable and the flag, nothing left behind", async () => {
  const { code, stderr, home, file } = await init(["--provider", "openrouter", "--yes"]);
  expect(code).toBe(2);
  expect(stderr).toContain("nothing written");
  expect(stderr).toContain("OPENROUTER_API_KEY");
  expect(stderr).toContain("--api-key");
  expect(existsSync(file)).toBe(false);
  expect(readdirSync(join(home, ".lynkr"))).toEqual([]);
});

test("every provider's required settings are asked for by name (azure-openai, databricks)", async () => {
  const azure = await init(["--provider", "azure-openai", "--yes", "--no-check", "--api-key", "k"]);
  expect(azure.code).toBe(2);
  expect(azure.stderr).toContain("AZURE_OPENAI_ENDPOINT");
  expect(azure.stderr).toContain("--endpoint");
  expect(azure.stderr).toContain("AZURE_OPENAI_DEPLOYMENT");
  expect(azure.stderr).toContain("--deployment");

  const databricks = await init(["--provider", "databricks", "--yes", "--no-check", "--endpoint", "https://adb-1.2.azuredatabricks.net"], {
    DATABRICKS_API_KEY: "dapi-123",
  });
  expect(databricks.code).toBe(0);
  expect(readEnvFile(databricks.file)).toMatchObject({ MODEL_PROVIDER: "databricks", DATABRICKS_API_BASE: "https://adb-1.2.azuredatabricks.net", DATABRICKS_API_KEY: "dapi-123" });
});

test("hybrid routing: Ollama first with a cloud fallback, or a cloud provider with Ollama for light requests", async () => {
  const ollamaFirst = await init(["--provider", "ollama", "--hybrid", "--fallback", "openrouter", "--yes", "--no-check"], { OPENROUTER_API_KEY: "sk-or-1" });
  expect(ollamaFirst.code).toBe(0);
  expect(readEnvFile(ollamaFirst.file)).toMatchObject({
    MODEL_PROVIDER: "ollama",
    PREFER_OLLAMA: "true",
    FALLBACK_PROVIDER: "openrouter",
    OPENROUTER_API_KEY: "sk-or-1",
    OLLAMA_MODEL: "qwen2.5-coder:7b",
  });

  const cloudFirst = await init(["--provider", "anthropic", "--hybrid", "--yes", "--no-check"]);
  expect(cloudFirst.code).toBe(0);
  const written = readEnvFile(cloudFirst.file);
  expect(written).toMatchObject({ MODEL_PROVIDER: "anthropic", PREFER_OLLAMA: "true", OLLAMA_ENDPOINT: "http://localhost:11434" });
  expect(written.FALLBACK_PROVIDER).toBeUndefined();
  expect(loadConfig({ env: {}, envFile: cloudFirst.file }).PREFER_OLLAMA).toBe(true);

  const noCloud = await init(["--provider", "ollama", "--hybrid", "--yes"]);
  expect(noCloud.code).toBe(2);
  expect(noCloud.stderr).toContain("--fallback");
  expect(existsSync(noCloud.file)).toBe(false);
});

test("llama.cpp on its default port 8080 moves lynkr to 8081 instead of a self-loop", async () => {
  const { code, file } = await init(["--provider", "llamacpp", "--yes", "--no-check"]);
  expect(code).toBe(0);
  expect(readEnvFile(file)).toMatchObject({ LLAMACPP_ENDPOINT: "http://localhost:8080", PORT: "8081" });
});

test("an existing file is kept unless --force; a custom --path is written and named for --env-file", async () => {
  const home = tempDir();
  mkdirSync(join(home, ".lynkr"));
  writeFileSync(join(home, ".lynkr", ".env"), "PORT=1234\n");
  const kept = await init(["--provider", "ollama", "--yes"], {}, home);
  expect(kept.code).toBe(2);
  expect(kept.stderr).toContain("--force");
  expect(readFileSync(kept.file, "utf8")).toBe("PORT=1234\n");

  const replaced = await init(["--provider", "ollama", "--yes", "--force", "--no-check"], {}, home);
  expect(replaced.code).toBe(0);
  expect(readEnvFile(replaced.file).MODEL_PROVIDER).toBe("ollama");
  expect(modeOf(replaced.file)).toBe(0o600);

  const custom = join(home, "team", "lynkr.env");
  const elsewhere = await init(["--provider", "ollama", "--yes", "--no-check", "--path", custom], {}, home);
  expect(elsewhere.code).toBe(0);
  expect(modeOf(custom)).toBe(0o600);
  expect(elsewhere.stdout).toContain(`lynkr start --env-file ${custom}`);
});

test("variables of this shell that would win over the file are named", async () => {
  const { code, stdout } = await init(["--provider", "ollama", "--yes", "--no-check", "--port", "8123"], { PORT: "9999", OLLAMA_MODEL: "qwen2.5-coder:7b" });
  expect(code).toBe(0);
  expect(stdout).toContain("winning over the file when lynkr start runs here: PORT\n");
});

test("with no terminal and no --yes it refuses to guess", async () => {
  const { code, stderr, file } = await init(["--provider", "ollama"]);
  expect(code).toBe(2);
  expect(stderr).toContain("--yes");
  expect(existsSync(file)).toBe(false);
});

test("values with quotes and # survive the round trip through the file", () => {
  const dir = tempDir();
  for (const value of ["plain", "it's", `a"b'c`, "x#y z", "$HOME"]) {
    writeFileSync(join(dir, ".env"), `V=${quoteEnvValue(value)}\n`);
    expect(readEnvFile(join(dir, ".env")).V).toBe(value);
  }
  expect(() => quoteEnvValue("a\nb")).toThrow();
});

test("a lynkr ./.env in the working folder wins over ~/.lynkr/.env; --env-file is read alone", () => {
  const home = tempDir();
  const cwd = tempDir();
  mkdirSync(join(home, ".lynkr"));
  writeFileSync(join(home, ".lynkr", ".env"), "PORT=1111\n");
  expect(loadConfig({ env: { HOME: home }, cwd }).PORT).toBe(1111);
  writeFileSync(join(cwd, ".env"), "MODEL_PROVIDER=anthropic\nPORT=2222\n");
  expect(loadConfig({ env: { HOME: home }, cwd }).PORT).toBe(2222);
  writeFileSync(join(cwd, "other.env"), "PORT=3333\n");
  expect(loadConfig({ env: { HOME: home }, cwd, envFile: "other.env" }).PORT).toBe(3333);
});

/** `lynkr init` on a pseudo-terminal (util-linux `script`), typed at like a person would. */
function onTerminal(args: string[], home: string) {
  const script = Bun.which("script");
  if (!script) throw new Error("script (util-linux) is not installed: the terminal tests need it");
  const command = ["stty cols 120 rows 40;", "exec", ...[...lynkrFromSource, "init", ...args].map((a) => `'${a}'`)].join(" ");
  const proc = Bun.spawn([script, "-qfec", command, "/dev/null"], {
    cwd: home,
    env: { PATH: process.env.PATH ?? "", HOME: home, TERM: "xterm-256color" },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let screen = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) screen += decoder.decode(chunk, { stream: true });
  })();
  let seen = 0;
  return {
    /** Waits for `text` to appear after what was already waited for. */
    async waitFor(text: string) {
      for (let waited = 0; waited < 10_000; waited += 25) {
        const at = screen.indexOf(text, seen);
        if (at >= 0) {
          seen = at + text.length;
          return;
        }
        await Bun.sleep(25);
      }
      throw new Error(`"${text}" never appeared on the terminal:\n${screen}`);
    },
    /** Keys arrive one write at a time, with a pause, as typing does. */
    async type(...keys: string[]) {
      for (const key of keys) {
        proc.stdin.write(key);
        await proc.stdin.flush();
        await Bun.sleep(60);
      }
    },
    screen: () => screen,
    exited: proc.exited,
  };
}

const down = "\x1b[B";
const enter = "\r";

test("on a terminal: arrows pick the provider, the key is masked, typed answers are kept", async () => {
  const home = tempDir();
  const key = "sk-or-v1-TYPEDSECRET-987";
  const term = onTerminal(["--no-check"], home);
  await term.waitFor("Which provider should answer Claude Code?");
  await term.type(down, down, down, down, enter); // anthropic, azure-anthropic, openai, azure-openai, openrouter
  await term.waitFor("OpenRouter API key (OPENROUTER_API_KEY)");
  await term.type(key, enter);
  await term.waitFor("Model (OPENROUTER_MODEL)");
  await term.type("anthropic/claude-sonnet-4.5", enter);
  await term.waitFor("Enable hybrid routing");
  await term.type(enter); // default: no
  await term.waitFor("Port for lynkr to listen on (PORT)");
  await term.type("18555", enter);
  await term.waitFor("status line");
  await term.type(enter); // default: no
  expect(await term.exited).toBe(0);
  expect(term.screen()).toContain("wrote");
  expect(term.screen()).not.toContain("TYPEDSECRET");
  const file = join(home, ".lynkr", ".env");
  expect(modeOf(file)).toBe(0o600);
  expect(readEnvFile(file)).toEqual({
    MODEL_PROVIDER: "openrouter",
    PORT: "18555",
    OPENROUTER_API_KEY: key,
    OPENROUTER_MODEL: "anthropic/claude-sonnet-4.5",
  });
});

test("on a terminal: a missing required answer is asked again; Ctrl+C leaves nothing behind", async () => {
  const home = tempDir();
  const term = onTerminal(["--provider", "azure-openai", "--no-check"], home);
  await term.waitFor("AZURE_OPENAI_ENDPOINT");
  await term.type("https://acme.openai.azure.com", enter);
  await term.waitFor("AZURE_OPENAI_API_KEY");
  await term.type("azure-key-123", enter);
  await term.waitFor("AZURE_OPENAI_DEPLOYMENT");
  await term.type(enter); // left empty
  await term.waitFor("Enable hybrid routing");
  await term.type(enter);
  await term.waitFor("(PORT)");
  await term.type(enter);
  await term.waitFor("do not make a working configuration yet");
  await term.waitFor("AZURE_OPENAI_DEPLOYMENT");
  await term.type("gpt-4o-prod", enter);
  await term.waitFor("status line");
  await term.type(enter);
  expect(await term.exited).toBe(0);
  expect(readEnvFile(join(home, ".lynkr", ".env"))).toMatchObject({ AZURE_OPENAI_DEPLOYMENT: "gpt-4o-prod", AZURE_OPENAI_API_KEY: "azure-key-123" });

  const cancelled = onTerminal(["--force"], home);
  await cancelled.waitFor("Which provider");
  await cancelled.type("\x03");
  expect(await cancelled.exited).toBe(130);
  expect(readEnvFile(join(home, ".lynkr", ".env")).AZURE_OPENAI_DEPLOYMENT).toBe("gpt-4o-prod");
  expect(readdirSync(join(home, ".lynkr")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
});

test("failing checks: exit 1 and no \"Next: lynkr start\"; passing ones point at lynkr wrap claude and the key Claude Code needs", async () => {
  const failing = await init(["--provider", "ollama", "--yes", "--endpoint", refusedUrl(), "--port", freePort()]);
  expect(failing.code).toBe(1);
  expect(failing.stdout).toContain("lynkr would not work yet");
  expect(failing.stdout).not.toContain("Next:");
  expect(failing.stdout).not.toContain("lynkr start");

  const port = freePort();
  const passing = await init(["--provider", "ollama", "--yes", "--endpoint", ollama.url, "--model", "coder:7b", "--port", port]);
  expect(passing.code).toBe(0);
  expect(passing.stdout).toContain("Next:\n  lynkr wrap claude");
  expect(passing.stdout).toContain(`export ANTHROPIC_BASE_URL=http://127.0.0.1:${port} ANTHROPIC_API_KEY=any-value`);
});

test("--statusline adds lynkr's status line to Claude Code's settings, keeping the rest and a backup", async () => {
  const home = tempDir();
  mkdirSync(join(home, ".claude"));
  const settings = join(home, ".claude", "settings.json");
  const before = { model: "sonnet", permissions: { allow: ["Bash(ls:*)"] }, statusLine: { type: "command", command: "my-old-line" } };
  writeFileSync(settings, JSON.stringify(before));
  const result = await init(["--provider", "ollama", "--yes", "--no-check", "--statusline"], {}, home);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`✔ status line added to ${settings} (backup ${settings}.lynkr-backup; replaced "my-old-line")`);
  expect(JSON.parse(readFileSync(settings, "utf8"))).toEqual({ ...before, statusLine: { type: "command", command: "lynkr statusline", padding: 0 } });
  expect(JSON.parse(readFileSync(`${settings}.lynkr-backup`, "utf8"))).toEqual(before);

  writeFileSync(settings, "{ not json");
  const broken = await init(["--provider", "ollama", "--yes", "--no-check", "--force", "--statusline"], {}, home);
  expect(broken.code).toBe(0);
  expect(broken.stdout).toContain("status line not added");
  expect(readFileSync(settings, "utf8")).toBe("{ not json");
});
