import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { messagesRequestSchema, type MessagesRequest } from "../../src/anthropic/schema.ts";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { loadRoutingFile } from "../../src/config/routing-file.ts";
import type { Config } from "../../src/config/schema.ts";
import { buildRouteProviders } from "../../src/routing/providers.ts";
import { createRouter } from "../../src/routing/router.ts";
import { readWire } from "../helpers/fake-upstream.ts";
import { tempDir } from "../helpers/gateway.ts";
import { refusedUrl } from "../helpers/ports.ts";

// The routing decision table: which chain each kind of request gets, and why.

function routerFor(env: Record<string, string>, file?: unknown) {
  const dir = tempDir();
  const extra: Record<string, string> = {};
  if (file !== undefined) {
    const path = join(dir, "config.json");
    writeFileSync(path, typeof file === "string" ? file : JSON.stringify(file));
    extra.LYNKR_CONFIG = path;
  }
  return routerOf(loadConfig({ env: { HOME: dir, ...env, ...extra }, cwd: dir }));
}

/** What the composition root does: read LYNKR_CONFIG, build the providers, then the router. */
function routerOf(config: Config) {
  const file = loadRoutingFile(config);
  return createRouter(config, buildRouteProviders(config, file), { file });
}

function problems(env: Record<string, string>, file?: unknown): string[] {
  try {
    routerFor(env, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a configuration error");
}

const tool = (name: string) => ({ name, input_schema: { type: "object" } });
function request(overrides: Omit<Partial<MessagesRequest>, "tools"> & { tools?: number } = {}): MessagesRequest {
  const { tools, ...rest } = overrides;
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
    ...(tools !== undefined ? { tools: Array.from({ length: tools }, (_, i) => tool(`t${i}`)) } : {}),
    ...rest,
  };
}

const chainOf = (router: ReturnType<typeof routerFor>, req: MessagesRequest) => {
  const route = router.route(req);
  return { chain: route.chain.map((t) => (t.model ? `${t.provider.name},${t.model}` : t.provider.name)), rule: route.rule, reason: route.reason };
};

describe("static", () => {
  test("MODEL_PROVIDER alone: one provider, no fallback when the default fallback (databricks) is not configured", () => {
    expect(chainOf(routerFor({ MODEL_PROVIDER: "anthropic" }), request())).toEqual({
      chain: ["anthropic"],
      rule: "static",
      reason: "static: MODEL_PROVIDER=anthropic",
    });
  });

  test("the default fallback joins the chain once its settings are present", () => {
    const router = routerFor({ MODEL_PROVIDER: "anthropic", DATABRICKS_API_BASE: "https://adb.example.net", DATABRICKS_API_KEY: "k" });
    expect(chainOf(router, request()).chain).toEqual(["anthropic", "databricks"]);
  });

  test("FALLBACK_PROVIDER names the fallback; FALLBACK_ENABLED=false removes it", () => {
    const env = { MODEL_PROVIDER: "ollama", FALLBACK_PROVIDER: "openrouter", OPENROUTER_API_KEY: "k" };
    expect(chainOf(routerFor(env), request()).chain).toEqual(["ollama", "openrouter"]);
    expect(chainOf(routerFor({ ...env, FALLBACK_ENABLED: "false" }), request()).chain).toEqual(["ollama"]);
  });
});

describe("hybrid (PREFER_OLLAMA)", () => {
  const env = { PREFER_OLLAMA: "true", MODEL_PROVIDER: "anthropic" };
  const withOpenRouter = { ...env, OPENROUTER_API_KEY: "k" };
  const table: [string, Record<string, string>, number | undefined, string[], string][] = [
    ["no tools → Ollama, cloud behind it", env, undefined, ["ollama", "anthropic"], "hybrid: 0 tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=3: ollama"],
    ["2 tools → Ollama", env, 2, ["ollama", "anthropic"], "hybrid: 2 tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=3: ollama"],
    ["3 tools → the cloud provider", env, 3, ["anthropic"], "hybrid: 3 tools >= OLLAMA_MAX_TOOLS_FOR_ROUTING=3, cloud: anthropic"],
    ["5 tools with OpenRouter → OpenRouter", withOpenRouter, 5, ["openrouter", "anthropic"], "hybrid: 5 tools >= OLLAMA_MAX_TOOLS_FOR_ROUTING=3, < OPENROUTER_MAX_TOOLS_FOR_ROUTING=15: openrouter"],
    ["2 tools with OpenRouter → Ollama, then OpenRouter, then cloud", withOpenRouter, 2, ["ollama", "openrouter", "anthropic"], "hybrid: 2 tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=3: ollama"],
    ["15 tools → the cloud provider", withOpenRouter, 15, ["anthropic"], "hybrid: 15 tools >= OLLAMA_MAX_TOOLS_FOR_ROUTING=3, cloud: anthropic"],
    ["bounds are settings", { ...env, OLLAMA_MAX_TOOLS_FOR_ROUTING: "20" }, 12, ["ollama", "anthropic"], "hybrid: 12 tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=20: ollama"],
    [
      "FALLBACK_PROVIDER is the cloud tier",
      { ...env, MODEL_PROVIDER: "ollama", FALLBACK_PROVIDER: "openai", OPENAI_API_KEY: "k" },
      4,
      ["openai"],
      "hybrid: 4 tools >= OLLAMA_MAX_TOOLS_FOR_ROUTING=3, cloud: openai",
    ],
  ];
  for (const [name, vars, tools, chain, reason] of table) {
    test(name, () => {
      const route = chainOf(routerFor(vars), request(tools === undefined ? {} : { tools }));
      expect(route).toEqual({ chain, rule: "hybrid", reason });
    });
  }

  test("hybrid with Ollama as MODEL_PROVIDER needs a configured cloud provider, and says which settings", () => {
    const found = problems({ PREFER_OLLAMA: "true", MODEL_PROVIDER: "ollama" });
    expect(found.some((p) => p.startsWith("DATABRICKS_API_BASE: required by PREFER_OLLAMA=true"))).toBe(true);
    expect(found.some((p) => p.startsWith("DATABRICKS_API_KEY:"))).toBe(true);
  });

  test("FALLBACK_PROVIDER cannot be Ollama, and an explicit one must be configured", () => {
    expect(problems({ FALLBACK_PROVIDER: "ollama" })[0]).toStartWith('FALLBACK_PROVIDER="ollama": expected one of: anthropic, azure-anthropic');
    expect(problems({ FALLBACK_PROVIDER: "openrouter" })).toEqual([
      "OPENROUTER_API_KEY: required by FALLBACK_PROVIDER=openrouter: your OpenRouter key",
    ]);
  });
});

describe("rules from LYNKR_CONFIG", () => {
  const file = {
    providers: {
      "gpu-box": { type: "ollama", OLLAMA_ENDPOINT: "http://10.1.2.3:11434", OLLAMA_MODEL: "qwen3:32b" },
      reasoner: { type: "openrouter", OPENROUTER_API_KEY: "or-key", OPENROUTER_MODEL: "deepseek/deepseek-r1" },
    },
    router: {
      default: "anthropic",
      background: "gpu-box,qwen2.5-coder:7b",
      think: { provider: "reasoner" },
      longContext: "reasoner,google/gemini-2.5-pro",
      longContextThreshold: 2000,
    },
    fallback: ["gpu-box"],
  };
  const router = routerFor({ MODEL_PROVIDER: "anthropic" }, file);

  test("haiku → background; thinking → think; a long prompt → longContext; else default; fallback after each", () => {
    expect(chainOf(router, request({ model: "claude-haiku-4-5" }))).toEqual({
      chain: ["gpu-box,qwen2.5-coder:7b"],
      rule: "background",
      reason: "rule background: model claude-haiku-4-5",
    });
    expect(chainOf(router, request({ thinking: { type: "enabled", budget_tokens: 2000 } }))).toEqual({
      chain: ["reasoner", "gpu-box"],
      rule: "think",
      reason: "rule think: thinking enabled",
    });
    // Claude Code's everyday adaptive thinking at medium effort is not a request to think hard.
    expect(chainOf(router, request({ thinking: { type: "adaptive" }, output_config: { effort: "medium" } })).rule).toBe("default");
    expect(chainOf(router, request({ thinking: { type: "adaptive" }, output_config: { effort: "high" } })).rule).toBe("think");
    const long = chainOf(router, request({ messages: [{ role: "user", content: "word ".repeat(3000) }] }));
    expect(long.chain).toEqual(["reasoner,google/gemini-2.5-pro", "gpu-box"]);
    expect(long.rule).toBe("long_context");
    expect(long.reason).toMatch(/^rule longContext: ~\d+ input tokens > 2000$/);
    expect(chainOf(router, request())).toEqual({ chain: ["anthropic", "gpu-box"], rule: "default", reason: "rule default" });
  });

  test("named instances take their own settings on top of the environment", () => {
    const gpu = router.route(request({ model: "claude-haiku-4-5" })).chain[0]?.provider;
    expect(gpu?.name).toBe("gpu-box");
    expect(gpu?.kind).toBe("ollama");
    expect(gpu?.endpoint).toBe("http://10.1.2.3:11434");
    expect(gpu?.model).toBe("qwen3:32b");
    expect(router.providers.map((p) => p.name).sort()).toEqual(["anthropic", "gpu-box", "reasoner"]);
    // Hybrid tiers and rules' built-in providers are listed too (for /v1/models and lynkr doctor).
    const hybrid = routerFor(
      { PREFER_OLLAMA: "true", MODEL_PROVIDER: "anthropic", OPENROUTER_API_KEY: "k", OPENAI_API_KEY: "sk" },
      { router: { think: "openai,gpt-5" } },
    );
    expect(hybrid.providers.map((p) => p.name).sort()).toEqual(["anthropic", "ollama", "openai", "openrouter"]);
  });

  test("a named instance's upstream errors name the instance, not its type", async () => {
    const down = refusedUrl();
    const named = routerFor(
      { MODEL_PROVIDER: "anthropic" },
      { providers: { reasoner: { type: "openrouter", OPENROUTER_API_KEY: "or-key", OPENROUTER_ENDPOINT: `${down}/api/v1/chat/completions` } }, router: { default: "reasoner" } },
    );
    const reasoner = named.route(request()).chain[0]?.provider;
    const ctx = { signal: new AbortController().signal, requestId: "req_1", clientHeaders: new Headers(), search: "" };
    const error = await reasoner?.stream(request(), ctx).catch((e: unknown) => e);
    expect(String(error)).toContain(`upstream reasoner (${down}) is unreachable`);
  });

  test("without rules that match, hybrid tiers and MODEL_PROVIDER still apply", () => {
    const partial = routerFor({ MODEL_PROVIDER: "anthropic", PREFER_OLLAMA: "true" }, { router: { background: "ollama" } });
    expect(chainOf(partial, request({ model: "claude-3-5-haiku" })).chain).toEqual(["ollama", "anthropic"]);
    expect(chainOf(partial, request({ tools: 5 })).chain).toEqual(["anthropic"]);
  });

  test("the default ~/.lynkr/config.json is read when present", () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".lynkr"));
    writeFileSync(join(dir, ".lynkr", "config.json"), JSON.stringify({ router: { default: "ollama" } }));
    const config = loadConfig({ env: { HOME: dir }, cwd: dir });
    expect(routerOf(config).route(request()).chain.map((t) => t.provider.name)).toEqual(["ollama"]);
  });

  test("every problem in the file is named with the file and the key", () => {
    const env = { MODEL_PROVIDER: "anthropic" };
    const found = problems(env, {
      providers: {
        anthropic: { type: "anthropic" },
        box: { type: "ollama", OLLAMA_ENDPOINT: "not a url", NOT_A_SETTING: "x" },
        dbx: { type: "databricks" },
        odd: { type: "gemini" },
      },
      router: { default: "nowhere", think: "a,b,c", longContextThreshold: -5, extra: true },
      fallback: ["dbx"],
    });
    const path = found[0]?.split(": ")[0] ?? "";
    expect(path).toMatch(/^LYNKR_CONFIG \/.*config\.json$/);
    const keys = found.map((p) => p.slice(path.length + 2));
    expect(keys).toContain('providers.odd.type: expected one of: anthropic, azure-anthropic, openai, azure-openai, openrouter, databricks, llamacpp, ollama');
    expect(keys.some((k) => k.startsWith("router.longContextThreshold:"))).toBe(true);
    expect(keys.some((k) => k.startsWith("router: Unrecognized key") || k.startsWith('router: unrecognized key'))).toBe(true);

    const semantic = problems(env, {
      providers: { anthropic: { type: "anthropic" }, box: { type: "ollama", OLLAMA_ENDPOINT: "not a url", NOT_A_SETTING: "x" }, dbx: { type: "databricks" } },
      router: { default: "nowhere" },
      fallback: ["dbx", "openai"],
    }).map((p) => p.replace(/^LYNKR_CONFIG \S+: /, ""));
    expect(semantic).toEqual([
      'providers.anthropic: "anthropic" is a built-in provider (configured from the environment); give this instance another name',
      "providers.box.OLLAMA_ENDPOINT: expected an http:// or https:// URL",
      "providers.box.NOT_A_SETTING: not a lynkr setting; use the environment variable names, e.g. OLLAMA_ENDPOINT",
      "providers.dbx.DATABRICKS_API_BASE: required for type databricks: the workspace URL, e.g. https://adb-123.4.azuredatabricks.net",
      "providers.dbx.DATABRICKS_API_KEY: required for type databricks: a personal access token, sent as Bearer",
      'router.default: unknown provider "nowhere"; expected one of: anthropic, azure-anthropic, openai, azure-openai, openrouter, databricks, llamacpp, ollama, box, dbx',
      "fallback.1: provider openai needs OPENAI_API_KEY (your OpenAI API key, or set OPENAI_ENDPOINT to a server that needs none)",
    ]);
  });

  test("a file that is not JSON, or an explicit path that does not exist, is a configuration error", () => {
    expect(problems({}, "{ not json")[0]).toMatch(/^LYNKR_CONFIG \/.*config\.json: not valid JSON: /);
    expect(problems({ LYNKR_CONFIG: "/nonexistent/lynkr.json" })).toEqual([
      "LYNKR_CONFIG /nonexistent/lynkr.json: file not found (LYNKR_CONFIG names a routing file that does not exist)",
    ]);
  });
});

describe("Claude Code's real request (2.1.328)", () => {
  test("12 tools and everyday adaptive thinking: the cloud tier in hybrid mode, the default rule with rules", async () => {
    const recorded = JSON.parse(await readWire("claude-code-2.1.328-request.json")) as { body: unknown };
    const request = messagesRequestSchema.parse(recorded.body);
    expect(chainOf(routerFor({ PREFER_OLLAMA: "true", MODEL_PROVIDER: "anthropic" }), request)).toEqual({
      chain: ["anthropic"],
      rule: "hybrid",
      reason: "hybrid: 12 tools >= OLLAMA_MAX_TOOLS_FOR_ROUTING=3, cloud: anthropic",
    });
    const rules = routerFor({ MODEL_PROVIDER: "anthropic" }, { router: { default: "anthropic", think: "ollama", background: "ollama", longContext: "ollama", longContextThreshold: 60000 } });
    expect(chainOf(rules, request).rule).toBe("default");
    expect(chainOf(rules, { ...request, model: "claude-haiku-4-5" }).rule).toBe("background");
    expect(chainOf(rules, { ...request, output_config: { effort: "high" } }).rule).toBe("think");
  });
});
