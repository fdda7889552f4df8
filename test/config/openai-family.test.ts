import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { runDoctor } from "../../src/doctor/run.ts";
import { loadRouting } from "../../src/app.ts";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { refusedUrl } from "../helpers/ports.ts";

// The OpenAI-family variables: what each provider needs, the model map and capability overrides,
// and the llama.cpp/lynkr port collision (both default to 8080), which start-up refuses for
// every provider requests can reach.

function problemsOf(load: () => unknown): string[] {
  try {
    load();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

function problems(env: Record<string, string>): string[] {
  return problemsOf(() => loadConfig({ env: { PORT: "0", ...env }, cwd: tempDir() }));
}

/** What start-up refuses once the providers are known (startGateway runs this before listening). */
function startupProblems(env: Record<string, string>, routingFile?: unknown): string[] {
  const home = tempDir();
  if (routingFile) {
    mkdirSync(join(home, ".lynkr"));
    writeFileSync(join(home, ".lynkr", "config.json"), JSON.stringify(routingFile));
  }
  return problemsOf(() => loadRouting(loadConfig({ env: { PORT: "0", HOME: home, ...env }, cwd: home })));
}

test("each provider names the variables it cannot work without", () => {
  expect(problems({ MODEL_PROVIDER: "openai" })).toEqual([expect.stringMatching(/^OPENAI_API_KEY: required when MODEL_PROVIDER=openai/)]);
  // Any other OpenAI-compatible server (vLLM, LM Studio...) may need no key.
  expect(problems({ MODEL_PROVIDER: "openai", OPENAI_ENDPOINT: "http://127.0.0.1:9/v1/chat/completions" })).toEqual([]);
  expect(problems({ MODEL_PROVIDER: "azure-openai" }).map((p) => p.split(":")[0])).toEqual([
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_DEPLOYMENT",
  ]);
  expect(
    problems({ MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21" }),
  ).toEqual([]);
  // Azure's v1 API URL names no deployment: the model must come from AZURE_OPENAI_DEPLOYMENT.
  expect(
    problems({ MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com/openai/v1/chat/completions" }).map((p) => p.split(":")[0]),
  ).toEqual(["AZURE_OPENAI_DEPLOYMENT"]);
  expect(problems({ MODEL_PROVIDER: "openrouter" }).map((p) => p.split(":")[0])).toEqual(["OPENROUTER_API_KEY"]);
  expect(problems({ MODEL_PROVIDER: "databricks" }).map((p) => p.split(":")[0])).toEqual(["DATABRICKS_API_BASE", "DATABRICKS_API_KEY"]);
  expect(problems({ MODEL_PROVIDER: "llamacpp" })).toEqual([]);
});

test("bad values are named with what they accept", () => {
  const found = problems({
    MODEL_PROVIDER: "llamacpp",
    OPENAI_ENDPOINT: "api.openai.com",
    DATABRICKS_ENDPOINT_PATH: "serving-endpoints/x/invocations",
    LLAMACPP_TIMEOUT_MS: "soon",
    LLAMACPP_MID_SYSTEM: "hoist",
    MODEL_MAP: "haiku",
    MODEL_CAPABILITIES: '{"m":{"context_window":"big"}}',
  });
  expect(found).toEqual([
    'OPENAI_ENDPOINT="api.openai.com": expected an http:// or https:// URL',
    'DATABRICKS_ENDPOINT_PATH="serving-endpoints/x/invocations": expected a path starting with /, e.g. /serving-endpoints/NAME/invocations',
    'LLAMACPP_TIMEOUT_MS="soon": expected an integer >= 1',
    'LLAMACPP_MID_SYSTEM="hoist": expected one of: keep, merge',
    expect.stringMatching(/^MODEL_MAP="haiku": expected comma-separated rules pattern=model or provider:pattern=model.*bad rule "haiku"/),
    expect.stringMatching(/^MODEL_CAPABILITIES=.*expected a JSON object of model → limits.*m\.context_window/),
  ]);
  expect(problems({ MODEL_MAP: "ollama:haiku=x" })).toEqual([expect.stringMatching(/unknown provider "ollama".*expected one of: openai, azure-openai, openrouter, databricks, llamacpp/)]);
  expect(problems({ MODEL_CAPABILITIES: "{not json" })).toEqual([expect.stringMatching(/\(not valid JSON\)/)]);
});

test("MODEL_MAP and MODEL_CAPABILITIES parse into rules and overrides", () => {
  const config = loadConfig({
    env: { PORT: "0", MODEL_MAP: " haiku = gpt-4o-mini , openrouter:Sonnet=anthropic/claude-sonnet-4.5", MODEL_CAPABILITIES: '{"My-Model":{"tools":false}}' },
    cwd: tempDir(),
  });
  expect(config.MODEL_MAP).toEqual([
    { provider: undefined, pattern: "haiku", model: "gpt-4o-mini" },
    { provider: "openrouter", pattern: "sonnet", model: "anthropic/claude-sonnet-4.5" },
  ]);
  expect(config.MODEL_CAPABILITIES).toEqual({ "my-model": { tools: false } });
});

test("llama.cpp on lynkr's own port stops start-up, naming LLAMACPP_ENDPOINT", () => {
  expect(startupProblems({ MODEL_PROVIDER: "llamacpp", PORT: "8080" })).toEqual([
    expect.stringMatching(/^LLAMACPP_ENDPOINT="http:\/\/localhost:8080": points at lynkr's own address 127\.0\.0\.1:8080/),
  ]);
  expect(startupProblems({ MODEL_PROVIDER: "llamacpp", PORT: "8081" })).toEqual([]);
  expect(startupProblems({ MODEL_PROVIDER: "llamacpp", PORT: "8080", LLAMACPP_ENDPOINT: "http://127.0.0.1:8082" })).toEqual([]);
});

test("a fallback or a named provider on lynkr's own port stops start-up too", () => {
  const fallback = { MODEL_PROVIDER: "anthropic", FALLBACK_PROVIDER: "openai", OPENAI_ENDPOINT: "http://127.0.0.1:8080/v1/chat/completions", PORT: "8080" };
  expect(startupProblems(fallback)).toEqual([
    expect.stringMatching(/^OPENAI_ENDPOINT="http:\/\/127\.0\.0\.1:8080\/v1\/chat\/completions": points at lynkr's own address 127\.0\.0\.1:8080/),
  ]);
  // Failover off: nothing ever calls OPENAI_ENDPOINT.
  expect(startupProblems({ ...fallback, FALLBACK_ENABLED: "false" })).toEqual([]);
  const named = { providers: { box: { type: "ollama", OLLAMA_ENDPOINT: "http://localhost:8080" } }, router: { background: "box" } };
  expect(startupProblems({ PORT: "8080" }, named)).toEqual([
    expect.stringMatching(/^provider box: OLLAMA_ENDPOINT="http:\/\/localhost:8080": points at lynkr's own address 127\.0\.0\.1:8080/),
  ]);
});

test("lynkr doctor names it as that provider's problem, without probing lynkr itself", async () => {
  const url = refusedUrl();
  const home = tempDir();
  const env = { MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: url, PORT: new URL(url).port, HOME: home };
  const report = await runDoctor({ env, cwd: home, timeoutMs: 1_000 });
  expect(report.checks.find((c) => c.id === "provider:llamacpp")).toMatchObject({
    ok: false,
    detail: `LLAMACPP_ENDPOINT="${url}": points at lynkr's own address 127.0.0.1:${new URL(url).port}; every request would call itself`,
    fix: "Use another PORT for lynkr or the upstream's real address",
  });
});

test("lynkr start exits 2 and names the variable", async () => {
  const result = await runCli(["start"], { MODEL_PROVIDER: "llamacpp", PORT: "8080" });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("LLAMACPP_ENDPOINT");
  expect(result.stderr).toContain("Use another PORT for lynkr or the upstream's real address");
});
