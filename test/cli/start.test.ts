import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { anthropicSse, chunkedResponse, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { lynkrFromSource, spawnLynkr } from "../helpers/lynkr-process.ts";
import { startPostgresServer } from "../helpers/postgres-server.ts";
import { refusedUrl } from "../helpers/ports.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

// `lynkr` as a user runs it: help and version, configuration errors (exit 2, every bad variable
// named with what it accepts, no stack trace), where configuration comes from and which source
// wins, and what start-up prints.

const path = { PATH: process.env.PATH ?? "" };

/** A port nothing listens on right now. */
function freePort(): number {
  return Number(new URL(refusedUrl()).port);
}

test("--help lists the commands, each command has its own help, --version prints the version", async () => {
  const help = await runCli(["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("start");
  expect(help.stdout).toContain("doctor");
  const startHelp = await runCli(["start", "--help"]);
  expect(startHelp.code).toBe(0);
  for (const flag of ["--port", "--host", "--env-file"]) expect(startHelp.stdout).toContain(flag);
  const version = await runCli(["--version"]);
  expect(version.code).toBe(0);
  expect(version.stdout.trim()).toBe(pkg.version);
});

test("bad configuration: exit 2, every bad variable named with what it accepts, no stack trace", async () => {
  const result = await runCli(["start"], {
    PORT: "eighty",
    LOG_LEVEL: "loud",
    MODEL_PROVIDER: "azure-anthropic",
    ANTHROPIC_UPSTREAM_URL: "ftp://example.test",
    STREAM_PING_INTERVAL_MS: "-5",
  });
  expect(result.code).toBe(2);
  const out = result.stderr;
  expect(out).toContain('PORT="eighty": expected an integer from 0 to 65535');
  expect(out).toContain("LOG_LEVEL=\"loud\": expected one of: silent, error, warn, info, debug, trace");
  expect(out).toContain("ANTHROPIC_UPSTREAM_URL");
  expect(out).toContain("http:// or https://");
  expect(out).toContain("STREAM_PING_INTERVAL_MS");
  // Cross-field requirements are reported together with the field errors, not one run later.
  expect(out).toContain("AZURE_ANTHROPIC_ENDPOINT");
  expect(out).toContain("AZURE_ANTHROPIC_API_KEY");
  expect(out).not.toMatch(/^\s+at /m);
  expect(result.stdout).toBe("");
});

test("an unknown provider lists the valid ones; a secret's value is never echoed", async () => {
  const result = await runCli(["start"], { MODEL_PROVIDER: "antropic", AZURE_ANTHROPIC_API_KEY: "sk-secret-value", MODEL_DEFAULT: " " });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('MODEL_PROVIDER="antropic": expected one of:');
  expect(result.stderr).toContain("anthropic, ");
  expect(result.stderr).not.toContain("sk-secret-value");
});

test("an upstream URL that points at lynkr itself is refused, whether set by variable or made so by --port", async () => {
  const bySameDefault = await runCli(["start"], { ANTHROPIC_UPSTREAM_URL: "http://localhost:8080" });
  expect(bySameDefault.code).toBe(2);
  expect(bySameDefault.stderr).toContain("ANTHROPIC_UPSTREAM_URL");
  expect(bySameDefault.stderr).toContain("points at lynkr's own address");
  const byFlag = await runCli(["start", "--port", "9123"], { ANTHROPIC_UPSTREAM_URL: "http://127.0.0.1:9123/v1" });
  expect(byFlag.code).toBe(2);
  expect(byFlag.stderr).toContain("127.0.0.1:9123");
});

test("a missing --env-file is exit 2 naming the file", async () => {
  const result = await runCli(["start", "--env-file", "nowhere.env"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("nowhere.env");
});

test("a lynkr ./.env is read; the environment wins over it; flags win over both", async () => {
  const dir = tempDir();
  const [envFilePort, envPort, flagPort] = [freePort(), freePort(), freePort()];
  // MODEL_PROVIDER makes it a lynkr file: its PORT is lynkr's, not a project's.
  writeFileSync(join(dir, ".env"), `MODEL_PROVIDER=anthropic\nPORT=${envFilePort}\nSESSION_DB_PATH=${join(dir, "from-file.db")}\nMODEL_DEFAULT=claude-from-file\n`);
  const fromFile = await spawnLynkr(lynkrFromSource, { ...path, HOME: dir, PORT: "" }, dir);
  await fromFile.stop();
  const fileLog = fromFile.output();
  expect(fromFile.url).toBe(`http://127.0.0.1:${envFilePort}`);
  expect(fileLog).toContain(join(dir, "from-file.db"));
  expect(fileLog).toContain("claude-from-file");

  const fromEnv = await spawnLynkr(lynkrFromSource, { ...path, HOME: dir, PORT: String(envPort), SESSION_DB_PATH: join(dir, "from-env.db") }, dir);
  await fromEnv.stop();
  const envLog = fromEnv.output();
  expect(fromEnv.url).toBe(`http://127.0.0.1:${envPort}`);
  expect(envLog).toContain(join(dir, "from-env.db"));
  expect(envLog).toContain("claude-from-file");

  const flagged = await spawnLynkr(lynkrFromSource, { ...path, HOME: dir, PORT: String(envPort) }, dir, ["--port", String(flagPort)]);
  await flagged.stop();
  expect(flagged.url).toBe(`http://127.0.0.1:${flagPort}`);
});

test("--env-file reads that file instead of ./.env", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, ".env"), "MODEL_DEFAULT=claude-from-cwd\n");
  writeFileSync(join(dir, "team.env"), `MODEL_DEFAULT=claude-from-team\nSESSION_DB_PATH=${join(dir, "team.db")}\n`);
  const lynkr = await spawnLynkr(lynkrFromSource, { ...path, HOME: dir }, dir, ["--env-file", "team.env"]);
  await lynkr.stop();
  const log = lynkr.output();
  expect(log).toContain("claude-from-team");
  expect(log).not.toContain("claude-from-cwd");
  expect(log).toContain(join(dir, "team.db"));
});

test("start-up says where it listens, which provider and model, and where the database is", async () => {
  const dir = tempDir();
  const db = join(dir, "sessions.db");
  const pretty = await spawnLynkr(lynkrFromSource, { ...path, HOME: dir, LOG_FORMAT: "pretty", SESSION_DB_PATH: db, ANTHROPIC_UPSTREAM_URL: "http://127.0.0.1:1/anthropic" }, dir);
  expect(await pretty.stop()).toBe(0);
  const text = pretty.output();
  expect(text).toContain(`listening on ${pretty.url}`);
  expect(text).toContain("anthropic");
  expect(text).toContain("http://127.0.0.1:1/anthropic");
  expect(text).toContain("model as requested by the client");
  expect(text).toContain(db);
  expect(text).toContain(`ANTHROPIC_BASE_URL=${pretty.url}`);
});

test("LOG_FORMAT=json: every line is one JSON object with time, level and message", async () => {
  const dir = tempDir();
  const upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "m"))));
  const lynkr = await spawnLynkr(lynkrFromSource, { ...path, HOME: dir, LOG_FORMAT: "json", ANTHROPIC_UPSTREAM_URL: upstream.url, SESSION_DB_PATH: join(dir, "j.db") }, dir);
  try {
    await fetch(`${lynkr.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k" },
      body: JSON.stringify({ model: "m", max_tokens: 4, messages: [{ role: "user", content: "x" }] }),
    }).then((r) => r.text());
    await fetch(`${lynkr.url}/v1/messages`, { method: "POST", body: "{" }).then((r) => r.text());
  } finally {
    await lynkr.stop();
    await upstream.stop();
  }
  const lines = lynkr.output().split("\n").filter((l) => l.trim() !== "");
  expect(lines.length).toBeGreaterThanOrEqual(4);
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(typeof entry.time).toBe("string");
    expect(typeof entry.level).toBe("string");
    expect(typeof entry.msg).toBe("string");
  }
  const startup = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
  expect(startup).toMatchObject({ url: lynkr.url, provider: "anthropic", database: join(dir, "j.db") });
});

test("the gateway never takes ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL as its own settings", async () => {
  const dir = tempDir();
  const upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "m"))));
  const port = freePort();
  // Claude Code's variables in the same shell, pointing at lynkr itself: no self-loop, no key use.
  const lynkr = await spawnLynkr(lynkrFromSource, {
    ...path,
    HOME: dir,
    PORT: String(port),
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
    ANTHROPIC_API_KEY: "sk-ant-claude-code-only",
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    // The fake upstream stands in for api.anthropic.com, where the client's key is meant to go.
    ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true",
    SESSION_DB_PATH: join(dir, "k.db"),
  }, dir);
  try {
    const res = await fetch(`${lynkr.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "client-key" },
      body: JSON.stringify({ model: "m", max_tokens: 4, messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(upstream.received.at(-1)?.headers.get("x-api-key")).toBe("client-key");
  } finally {
    await lynkr.stop();
    await upstream.stop();
  }
});

test("a project's own ./.env adds only lynkr's variables over ~/.lynkr/.env, and start-up names both files", async () => {
  const home = tempDir();
  const project = tempDir();
  const [userPort, projectPort] = [freePort(), freePort()];
  mkdirSync(join(home, ".lynkr"));
  writeFileSync(join(home, ".lynkr", ".env"), `MODEL_PROVIDER=ollama\nOLLAMA_ENDPOINT=http://127.0.0.1:1\nOLLAMA_MODEL=qwen-user\nPORT=${userPort}\n`);
  // The project's server port and OpenAI key are its own; MODEL_DEFAULT is lynkr's.
  writeFileSync(join(project, ".env"), `PORT=${projectPort}\nOPENAI_API_KEY=sk-project-own\nDATABASE_URL=postgres://x\nMODEL_DEFAULT=claude-from-project\n`);
  const lynkr = await spawnLynkr(lynkrFromSource, { ...path, HOME: home, PORT: "", LOG_FORMAT: "pretty", SESSION_DB_PATH: join(home, "x.db") }, project);
  await lynkr.stop();
  const log = lynkr.output();
  expect(lynkr.url).toBe(`http://127.0.0.1:${userPort}`);
  expect(log).toContain("provider ollama → http://127.0.0.1:1/api/chat, model qwen-user");
  expect(log).toContain(`configuration from ${join(home, ".lynkr", ".env")} (4 variables), then ${join(project, ".env")} (1 variables; not lynkr's, ignored: PORT, OPENAI_API_KEY, DATABASE_URL)`);
  expect(log).toContain("lynkr wrap claude, or export ANTHROPIC_BASE_URL=");
  expect(log).toContain("ANTHROPIC_API_KEY=any-value");
});

test("a port held by another lynkr: same configuration or a different one, each said as such", async () => {
  const dir = tempDir();
  const port = freePort();
  const env = { ...path, HOME: dir, PORT: String(port), SESSION_DB_PATH: join(dir, "a.db") };
  const first = await spawnLynkr(lynkrFromSource, env, dir);
  try {
    const same = await runCli(["start"], { ...env, LOG_FORMAT: "pretty" }, dir);
    expect(same.code).toBe(1);
    expect(same.stdout + same.stderr).toContain("with this same configuration: it is running already");
    const other = await runCli(["start"], { ...env, MODEL_DEFAULT: "claude-other" }, dir);
    expect(other.code).toBe(1);
    expect(other.stdout + other.stderr).toContain(`held by another lynkr ${pkg.version} with a different configuration`);
    const doctor = await runCli(["doctor", "--json", "--timeout", "2000"], { ...env, MODEL_DEFAULT: "claude-other" }, dir);
    const port = (JSON.parse(doctor.stdout) as { checks: { id: string; ok: boolean; detail: string }[] }).checks.find((c) => c.id === "port");
    expect(port).toMatchObject({ ok: false, detail: `held by another lynkr ${pkg.version} with a different configuration` });
  } finally {
    await first.stop();
  }
});

test("with LYNKR_DATABASE_URL, lynkr start keeps its records in PostgreSQL and names it by its host; one that does not answer stops start-up", async () => {
  const pg = await startPostgresServer();
  const dir = tempDir();
  try {
    const url = `postgres://postgres:pw-secret-4@127.0.0.1:${pg.port}/postgres`;
    const lynkr = await spawnLynkr(lynkrFromSource, { ...path, HOME: dir, LOG_FORMAT: "pretty", SESSION_DB_PATH: join(dir, "p.db"), LYNKR_DATABASE_URL: url }, dir);
    expect(await lynkr.stop()).toBe(0);
    expect(lynkr.output()).toContain(`records in postgres 127.0.0.1:${pg.port} (sessions, turns, usage, memory, prompt cache)`);
    expect(lynkr.output()).not.toContain("pw-secret-4");

    const port = freePort();
    const down = await runCli(["start"], { HOME: dir, SESSION_DB_PATH: join(dir, "p.db"), LYNKR_DATABASE_URL: `postgres://lynkr:pw-secret-4@127.0.0.1:${port}/lynkr` }, dir);
    expect(down.code).toBe(1);
    expect(down.stdout + down.stderr).toContain(`postgres 127.0.0.1:${port}`);
    expect(down.stdout + down.stderr).toContain("LYNKR_DATABASE_URL");
    expect(down.stdout + down.stderr).not.toContain("pw-secret-4");
  } finally {
    await pg.close();
  }
}, 60_000);
