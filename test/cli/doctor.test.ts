import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { DoctorReport } from "../../src/doctor/run.ts";
import { jsonResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.ts";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { startPostgresServer } from "../helpers/postgres-server.ts";
import { startRedisServer } from "../helpers/redis-server.ts";
import { demoServer, writeMcpConfig } from "../helpers/mcp-config.ts";
import { refusedUrl } from "../helpers/ports.ts";

// `lynkr doctor` as a process, against fake upstreams that are healthy or broken.

let ollama: FakeOllama;
let anthropic: FakeUpstream;
let openrouter: FakeUpstream;
let occupied: FakeUpstream;

beforeAll(() => {
  ollama = startFakeOllama(
    { "coder:7b": { capabilities: ["completion", "tools"], contextLength: 32768 }, "chat:1b": { capabilities: ["completion"] } },
    () => jsonResponse({ error: "doctor must not generate" }, 500),
  );
  anthropic = startFakeUpstream((req) =>
    req.headers.get("x-api-key") === "good-key"
      ? jsonResponse({ data: [{ id: "claude-x", type: "model" }], has_more: false })
      : jsonResponse({ type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }, 401),
  );
  openrouter = startFakeUpstream((req) =>
    req.url.pathname === "/api/v1/key" && req.headers.get("authorization") === "Bearer or-good"
      ? jsonResponse({ data: { label: "lynkr", usage: 0 } })
      : jsonResponse({ error: { message: "No auth credentials found", code: 401 } }, 401),
  );
  // Something that is not lynkr, holding a port.
  occupied = startFakeUpstream(() => new Response("nginx"));
});

afterAll(async () => {
  await Promise.all([ollama.stop(), anthropic.stop(), openrouter.stop(), occupied.stop()]);
});

function freePort(): string {
  return new URL(refusedUrl()).port;
}

async function doctor(env: Record<string, string>, json = true) {
  const dir = tempDir();
  const result = await runCli(["doctor", ...(json ? ["--json"] : []), "--timeout", "2000"], { SESSION_DB_PATH: join(dir, "lynkr.db"), ...env }, dir);
  return { ...result, report: json ? (JSON.parse(result.stdout) as DoctorReport) : undefined };
}

const byId = (report: DoctorReport | undefined) => Object.fromEntries((report?.checks ?? []).map((c) => [c.id, c]));

test("a healthy hybrid setup: every check passes, exit 0, and the table shows ✔ only", async () => {
  const port = freePort();
  const env = {
    PREFER_OLLAMA: "true",
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: anthropic.url,
    ANTHROPIC_UPSTREAM_API_KEY: "good-key",
    OLLAMA_ENDPOINT: ollama.url,
    OLLAMA_MODEL: "coder:7b",
    OLLAMA_NUM_CTX: "32768",
    FALLBACK_PROVIDER: "openrouter",
    OPENROUTER_API_KEY: "or-good",
    OPENROUTER_ENDPOINT: `${openrouter.url}/api/v1/chat/completions`,
    PORT: port,
    ANTHROPIC_BASE_URL: `http://localhost:${port}`,
  };
  const { code, report } = await doctor(env);
  expect(report?.checks.filter((c) => !c.ok)).toEqual([]);
  expect(code).toBe(0);
  expect(Object.keys(byId(report))).toEqual([
    "config",
    "routing-file",
    "provider:anthropic",
    "provider:ollama",
    "ollama-model:ollama",
    "ollama-context:ollama",
    "provider:openrouter",
    "credentials",
    "port",
    "database",
    "base-url",
  ]);
  expect(byId(report).credentials?.detail).toBe("each key goes only to the address it was configured for");
  expect(byId(report)["ollama-model:ollama"]?.detail).toBe("pulled, takes tools, 32768-token context");
  expect(byId(report)["provider:anthropic"]?.detail).toBe(`${anthropic.url} reachable, key accepted`);
  expect(ollama.chats()).toEqual([]);

  const text = await doctor(env, false);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain("✔ configuration");
  expect(text.stdout).not.toContain("✖");
  expect(text.stdout).toContain("all checks passed");
});

test("a broken setup: each problem is a ✖ with a one-line fix, exit 1", async () => {
  const { code, report } = await doctor({
    PREFER_OLLAMA: "true",
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: anthropic.url,
    ANTHROPIC_UPSTREAM_API_KEY: "revoked",
    OLLAMA_ENDPOINT: ollama.url,
    OLLAMA_MODEL: "qwen3:8b",
    FALLBACK_PROVIDER: "openrouter",
    OPENROUTER_API_KEY: "or-bad",
    OPENROUTER_ENDPOINT: `${openrouter.url}/api/v1/chat/completions`,
    PORT: String(occupied.port),
    SESSION_DB_PATH: "/proc/lynkr/lynkr.db",
  });
  expect(code).toBe(1);
  const checks = byId(report);
  expect(checks["provider:anthropic"]).toMatchObject({ ok: false, detail: `${anthropic.url} rejected the key (HTTP 401: invalid x-api-key)`, fix: "set a valid ANTHROPIC_UPSTREAM_API_KEY" });
  expect(checks["ollama-model:ollama"]).toMatchObject({ ok: false, fix: "ollama pull qwen3:8b" });
  expect(checks["provider:openrouter"]).toMatchObject({ ok: false, fix: "set a valid OPENROUTER_API_KEY" });
  expect(checks.port).toMatchObject({ ok: false, detail: "in use by another program" });
  expect(checks.database?.ok).toBe(false);
  expect(checks.database?.fix).toContain("SESSION_DB_PATH");
  expect(checks["base-url"]).toMatchObject({ ok: false, fix: `export ANTHROPIC_BASE_URL=http://127.0.0.1:${occupied.port}` });
  for (const check of report?.checks ?? []) if (!check.ok) expect(check.fix).toBeString();
});

test("Ollama down, or a model that cannot call tools, says so", async () => {
  const down = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: refusedUrl(), PORT: freePort() });
  expect(byId(down.report)["provider:ollama"]).toMatchObject({ ok: false, fix: "start Ollama (ollama serve) or set OLLAMA_ENDPOINT to where it runs" });
  expect(byId(down.report)["provider:ollama"]?.detail).toMatch(/unreachable/);

  const noTools = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "chat:1b", PORT: freePort() });
  expect(byId(noTools.report)["ollama-model:ollama"]).toMatchObject({ ok: false, detail: "pulled, but cannot call tools (Claude Code needs them)" });
  // No OLLAMA_NUM_CTX: Ollama's own setting may suffice (OLLAMA_CONTEXT_LENGTH), so advice, not a ✖.
  expect(byId(noTools.report)["ollama-context:ollama"]?.ok).toBe(true);
  expect(byId(noTools.report)["ollama-context:ollama"]?.detail).toContain("set OLLAMA_NUM_CTX=32768");
  const tooSmall = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b", OLLAMA_NUM_CTX: "4096", PORT: freePort() });
  expect(byId(tooSmall.report)["ollama-context:ollama"]).toMatchObject({ ok: false, fix: "set OLLAMA_NUM_CTX=32768" });
  const tooBig = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b", OLLAMA_NUM_CTX: "65536", PORT: freePort() });
  expect(byId(tooBig.report)["ollama-context:ollama"]).toMatchObject({ ok: false, detail: "OLLAMA_NUM_CTX=65536 is more than the model's 32768", fix: "set OLLAMA_NUM_CTX=32768" });
});

test("an invalid configuration is reported as the first ✖ and nothing is probed", async () => {
  const { code, report } = await doctor({ MODEL_PROVIDER: "ollama", PORT: "eighty", FALLBACK_PROVIDER: "ollama" });
  expect(code).toBe(1);
  expect(report?.checks.map((c) => c.id)).toEqual(["config"]);
  expect(report?.checks[0]?.detail).toContain('PORT="eighty": expected an integer from 0 to 65535');
  expect(report?.checks[0]?.detail).toContain("FALLBACK_PROVIDER");
});

test("a bad routing file is named with its path and key", async () => {
  const dir = tempDir();
  const path = join(dir, "routing.json");
  await Bun.write(path, JSON.stringify({ router: { default: "nowhere" } }));
  const { code, report } = await doctor({ LYNKR_CONFIG: path, ANTHROPIC_UPSTREAM_URL: anthropic.url, PORT: freePort() });
  expect(code).toBe(1);
  expect(byId(report)["routing-file"]).toMatchObject({ ok: false });
  expect(byId(report)["routing-file"]?.detail).toStartWith(`LYNKR_CONFIG ${path}: router.default: unknown provider "nowhere"`);
});

test("an address missing its request path fails where every request would go: POST to the URL the provider posts to", async () => {
  // An OpenAI-compatible server: its model list answers, only /v1/chat/completions takes a POST.
  const server = startFakeUpstream((req) =>
    req.method === "GET" && req.url.pathname === "/v1/models"
      ? jsonResponse({ object: "list", data: [] })
      : req.method === "POST" && req.url.pathname === "/v1/chat/completions"
        ? jsonResponse({ error: { message: "you must provide a model parameter", type: "invalid_request_error", code: null } }, 400)
        : new Response("<html><body>404 Not Found</body></html>", { status: 404, headers: { "content-type": "text/html" } }),
  );
  try {
    const wrong = await doctor({ MODEL_PROVIDER: "openai", OPENAI_ENDPOINT: `${server.url}/v1`, OPENAI_API_KEY: "sk", PORT: freePort() });
    expect(wrong.code).toBe(1);
    expect(byId(wrong.report)["provider:openai"]).toMatchObject({
      ok: false,
      detail: `OPENAI_ENDPOINT=${server.url}/v1 answered 404 for POST ${server.url}/v1, where every request goes`,
      fix: "set OPENAI_ENDPOINT to the full chat completions URL, e.g. http://host/v1/chat/completions",
    });
    const right = await doctor({ MODEL_PROVIDER: "openai", OPENAI_ENDPOINT: `${server.url}/v1/chat/completions`, OPENAI_API_KEY: "sk", PORT: freePort() });
    expect(byId(right.report)["provider:openai"]).toMatchObject({ ok: true, detail: `${server.url} reachable, key accepted` });
    // The probe's POST carried an empty body: a 400, never a generation.
    expect(server.received.filter((r) => r.method === "POST").map((r) => r.text)).toEqual(["{}", "{}"]);
  } finally {
    await server.stop();
  }
});

test("an Anthropic upstream URL whose messages path 404s fails, naming ANTHROPIC_UPSTREAM_URL", async () => {
  const server = startFakeUpstream((req) =>
    req.url.pathname.endsWith("/models") ? jsonResponse({ data: [], has_more: false }) : new Response("Not Found", { status: 404 }),
  );
  try {
    const { report } = await doctor({ ANTHROPIC_UPSTREAM_URL: `${server.url}/v1`, ANTHROPIC_UPSTREAM_API_KEY: "k", PORT: freePort() });
    expect(byId(report)["provider:anthropic"]).toMatchObject({
      ok: false,
      detail: `ANTHROPIC_UPSTREAM_URL=${server.url}/v1 answered 404 for POST ${server.url}/v1/messages, where every request goes`,
    });
  } finally {
    await server.stop();
  }
});

test("ANTHROPIC_BASE_URL ending in /v1 fails: Claude Code would post to /v1/v1/messages", async () => {
  const port = freePort();
  const { report } = await doctor({ ANTHROPIC_UPSTREAM_URL: anthropic.url, ANTHROPIC_UPSTREAM_API_KEY: "good-key", PORT: port, ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}/v1` });
  expect(byId(report)["base-url"]).toMatchObject({
    ok: false,
    detail: `http://127.0.0.1:${port}/v1 has the path /v1: Claude Code adds /v1/messages itself and would post to /v1/v1/messages, which lynkr does not serve`,
    fix: `export ANTHROPIC_BASE_URL=http://127.0.0.1:${port}`,
  });
});

test("each configured MCP server is started and lists its tools, or is a ✖ with its error", async () => {
  const mcpConfig = writeMcpConfig({ demo: demoServer(), broken: { command: "lynkr-no-such-mcp-server" } });
  const env = { MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b", PORT: freePort(), LYNKR_MCP_CONFIG: mcpConfig };
  const { code, report } = await doctor(env);
  expect(code).toBe(1);
  const checks = byId(report);
  expect(checks["mcp:demo"]).toMatchObject({ ok: true, title: "MCP server demo" });
  expect(checks["mcp:demo"]?.detail).toStartWith("stdio: 5 tool(s): echo, sleep");
  expect(checks["mcp:broken"]).toMatchObject({ ok: false, title: "MCP server broken" });
  expect(checks["mcp:broken"]?.detail).toContain('cannot start "lynkr-no-such-mcp-server": command not found');
  expect(checks["mcp:broken"]?.fix).toContain("lynkr mcp list");
  // A configuration file that is not there is named, not ignored.
  const missing = await doctor({ ...env, LYNKR_MCP_CONFIG: join(tempDir(), "absent.json") });
  expect(byId(missing.report)["mcp-config"]).toMatchObject({ ok: false });
  expect(byId(missing.report)["mcp-config"]?.detail).toContain("LYNKR_MCP_CONFIG names a file that does not exist");
  const text = await doctor(env, false);
  expect(text.stdout).toContain("✔ MCP server demo");
  expect(text.stdout).toContain("✖ MCP server broken");
});

test("with LYNKR_REDIS_URL, doctor says whether Redis answers, without the password in the URL", async () => {
  const redis = await startRedisServer();
  try {
    const up = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, PORT: freePort(), LYNKR_REDIS_URL: `redis://:pw-secret-1@127.0.0.1:${redis.port}` });
    expect(byId(up.report).shared_state).toMatchObject({ ok: true, detail: expect.stringContaining(`redis 127.0.0.1:${redis.port} answers`) });
    const port = freePort();
    const down = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, PORT: freePort(), LYNKR_REDIS_URL: `redis://:pw-secret-1@127.0.0.1:${port}` });
    expect(down.code).toBe(1);
    expect(byId(down.report).shared_state).toMatchObject({ ok: false, detail: expect.stringContaining(`redis 127.0.0.1:${port}`) });
    expect(down.stdout).not.toContain("pw-secret-1");
  } finally {
    await redis.close();
  }
});

test("with LYNKR_DATABASE_URL, doctor says whether PostgreSQL answers, without the password in the URL", async () => {
  const pg = await startPostgresServer();
  try {
    const up = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, PORT: freePort(), LYNKR_DATABASE_URL: `postgres://postgres:pw-secret-2@127.0.0.1:${pg.port}/postgres` });
    expect(byId(up.report).postgres).toMatchObject({ ok: true, detail: expect.stringContaining(`postgres 127.0.0.1:${pg.port} answers`) });
    const port = freePort();
    const down = await doctor({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, PORT: freePort(), LYNKR_DATABASE_URL: `postgresql://lynkr:pw-secret-2@127.0.0.1:${port}/lynkr` });
    expect(down.code).toBe(1);
    expect(byId(down.report).postgres).toMatchObject({ ok: false, detail: expect.stringContaining(`postgres 127.0.0.1:${port}`) });
    expect(down.stdout).not.toContain("pw-secret-2");
  } finally {
    await pg.close();
  }
}, 60_000);
