import { z } from "zod";
import type { ProviderName } from "../config/provider-names.ts";
import type { Config } from "../config/schema.ts";
import { configuredHeaders } from "../providers/anthropic-wire/provider.ts";
import { optionsFor } from "../providers/openai-chat/configured.ts";
import { anthropicWireOptions } from "../providers/registry.ts";
import { parseErrorBody } from "../providers/upstream-error.ts";
import { parseShow } from "../providers/ollama/capabilities.ts";
import { probe, type ProbeResult } from "./probe.ts";
import { fail, pass, type CheckResult } from "./types.ts";

// Is each configured provider reachable, and is its key accepted? The cheapest real call each
// one has: a model list, a key lookup, a health endpoint. Never a generation (it would cost).

export interface ProviderUnderTest {
  /** The name routing uses (a built-in kind or a named instance from LYNKR_CONFIG). */
  name: string;
  kind: ProviderName;
  /** The settings this provider is built from (an instance's own on top of the environment). */
  config: Config;
}

interface Call {
  url: string;
  headers: Record<string, string>;
  /** The variable holding the key, named in fixes; undefined when none is sent. */
  keyVariable: string | undefined;
  /** The variable holding the URL, named in fixes. */
  urlVariable: string;
}

// The same URL forms the provider itself accepts (…/anthropic, …/v1, …/v1/messages, a bare Azure resource).
const modelsUrl = (messagesUrl: string) => `${messagesUrl.replace(/\/messages$/, "")}/models?limit=1`;
const withoutChatPath = (url: string) => url.replace(/\/chat\/completions(\?.*)?$/, "");

/** The probe for a provider, from the very options (URL, credentials) the provider is built with. */
function callFor({ kind, config: c, name }: ProviderUnderTest & { kind: Exclude<ProviderName, "ollama"> }): Call {
  if (kind === "anthropic" || kind === "azure-anthropic") {
    const options = anthropicWireOptions(kind, c, name);
    const probe = { url: modelsUrl(options.messagesUrl), headers: configuredHeaders(options) };
    return kind === "anthropic"
      ? { ...probe, keyVariable: options.apiKey ? "ANTHROPIC_UPSTREAM_API_KEY" : undefined, urlVariable: "ANTHROPIC_UPSTREAM_URL" }
      : { ...probe, keyVariable: "AZURE_ANTHROPIC_API_KEY", urlVariable: "AZURE_ANTHROPIC_ENDPOINT" };
  }
  const options = optionsFor(kind, c, name);
  const chatUrl = options.url(options.model);
  const headers = options.headers;
  switch (kind) {
    case "openai":
      return {
        url: `${withoutChatPath(chatUrl)}/models`,
        headers,
        keyVariable: c.OPENAI_API_KEY ? "OPENAI_API_KEY" : undefined,
        urlVariable: "OPENAI_ENDPOINT",
      };
    case "azure-openai":
      return {
        url: `${new URL(chatUrl).origin}/openai/models?api-version=${encodeURIComponent(c.AZURE_OPENAI_API_VERSION)}`,
        headers,
        keyVariable: "AZURE_OPENAI_API_KEY",
        urlVariable: "AZURE_OPENAI_ENDPOINT",
      };
    case "openrouter":
      // /models answers without a key; /key tells whether the key is valid.
      return {
        url: `${withoutChatPath(chatUrl)}/key`,
        headers,
        keyVariable: "OPENROUTER_API_KEY",
        urlVariable: "OPENROUTER_ENDPOINT",
      };
    case "databricks":
      return {
        url: `${new URL(chatUrl).origin}/api/2.0/serving-endpoints`,
        headers,
        keyVariable: "DATABRICKS_API_KEY",
        urlVariable: "DATABRICKS_API_BASE",
      };
    case "llamacpp":
      return {
        url: `${chatUrl.replace(/(\/v1)?\/chat\/completions$/, "")}/health`,
        headers,
        keyVariable: c.LLAMACPP_API_KEY ? "LLAMACPP_API_KEY" : undefined,
        urlVariable: "LLAMACPP_ENDPOINT",
      };
  }
}

function reason(result: Extract<ProbeResult, { ok: true }>): string {
  const message = parseErrorBody(result.body).message;
  return `HTTP ${result.status}${message ? `: ${message.slice(0, 160)}` : ""}`;
}

async function checkHttpProvider(target: ProviderUnderTest & { kind: Exclude<ProviderName, "ollama"> }, timeoutMs: number): Promise<CheckResult> {
  const call = callFor(target);
  const id = `provider:${target.name}`;
  const title = `provider ${target.name}`;
  const result = await probe(call.url, { method: "GET", headers: call.headers }, timeoutMs);
  if (!result.ok) return fail(id, title, result.error, `check ${call.urlVariable} and that the host is reachable from here`);
  const origin = new URL(call.url).origin;
  if (result.status === 401 || result.status === 403) {
    if (!call.keyVariable) {
      // No key of lynkr's own: Anthropic-wire upstreams take the client's; others need none to be reachable.
      return pass(id, title, `${origin} reachable; no key configured, so clients' own credentials are passed on`);
    }
    return fail(id, title, `${origin} rejected the key (${reason(result)})`, `set a valid ${call.keyVariable}`);
  }
  if (target.kind === "llamacpp" && result.status === 503) {
    return fail(id, title, `${origin} is up but still loading its model (${reason(result)})`, "wait for llama-server to finish loading, then run lynkr doctor again");
  }
  if (result.status >= 500) return fail(id, title, `${origin} answered ${reason(result)}`, `the upstream is failing; check its status, or ${call.urlVariable}`);
  if (result.status === 404 && target.kind !== "anthropic") {
    return fail(id, title, `${origin} has no ${new URL(call.url).pathname} (${reason(result)})`, `check ${call.urlVariable}: it does not look like a ${target.kind} endpoint`);
  }
  const accepted = call.keyVariable ? ", key accepted" : "";
  return pass(id, title, `${origin} reachable${result.status < 300 ? accepted : ` (HTTP ${result.status})`}`);
}

const tagsSchema = z.looseObject({ models: z.array(z.looseObject({ name: z.string() })) });

/** Ollama: the server, the model pulled, and whether the model takes tools. */
async function checkOllama(target: ProviderUnderTest, timeoutMs: number): Promise<CheckResult[]> {
  const { OLLAMA_ENDPOINT: endpoint, OLLAMA_MODEL: model } = target.config;
  const id = `provider:${target.name}`;
  const title = `provider ${target.name}`;
  const tags = await probe(`${endpoint}/api/tags`, { method: "GET" }, timeoutMs);
  if (!tags.ok) return [fail(id, title, tags.error, `start Ollama (ollama serve) or set OLLAMA_ENDPOINT to where it runs`)];
  const parsed = tags.status === 200 ? tagsSchema.safeParse(safeJson(tags.body)) : undefined;
  if (!parsed?.success) {
    return [fail(id, title, `${endpoint}/api/tags answered ${reason(tags)}, not Ollama's model list`, "check OLLAMA_ENDPOINT: it should be Ollama's base URL, e.g. http://localhost:11434")];
  }
  const names = parsed.data.models.map((m) => m.name);
  const results = [pass(id, title, `${endpoint} reachable, ${names.length} model${names.length === 1 ? "" : "s"} pulled`)];
  const pulled = names.includes(model) || (!model.includes(":") && names.includes(`${model}:latest`));
  const modelId = `ollama-model:${target.name}`;
  if (!pulled) {
    results.push(fail(modelId, `ollama model ${model}`, `not pulled on ${endpoint}`, `ollama pull ${model}`));
    return results;
  }
  const show = await probe(`${endpoint}/api/show`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model }) }, timeoutMs);
  if (!show.ok || show.status !== 200) {
    results.push(fail(modelId, `ollama model ${model}`, show.ok ? `/api/show answered ${reason(show)}` : show.error, `ollama pull ${model}`));
    return results;
  }
  const caps = parseShow(safeJson(show.body));
  results.push(
    caps.tools
      ? pass(modelId, `ollama model ${model}`, `pulled, takes tools${caps.thinking ? " and thinking" : ""}${caps.contextLength ? `, ${caps.contextLength}-token context` : ""}`)
      : fail(modelId, `ollama model ${model}`, "pulled, but cannot call tools (Claude Code needs them)", "use a model with the tools capability, e.g. OLLAMA_MODEL=qwen2.5-coder:7b (ollama pull qwen2.5-coder:7b)"),
  );
  results.push(checkOllamaContext(target, caps.contextLength));
  return results;
}

/** Claude Code's first request is ~12k tokens; a smaller window is silently cut by Ollama. */
const claudeCodeContext = 16_384;

function checkOllamaContext(target: ProviderUnderTest, modelContext: number | undefined): CheckResult {
  const numCtx = target.config.OLLAMA_NUM_CTX;
  const id = `ollama-context:${target.name}`;
  const title = "ollama context";
  const suggested = Math.min(32_768, modelContext ?? 32_768);
  if (numCtx === 0) {
    // Ollama may run with OLLAMA_CONTEXT_LENGTH large enough; lynkr cannot see it, so it advises.
    return pass(id, title, `Ollama's own window (OLLAMA_NUM_CTX unset); unless Ollama runs with OLLAMA_CONTEXT_LENGTH >= ${claudeCodeContext}, set OLLAMA_NUM_CTX=${suggested}: a smaller window silently cuts Claude Code's 12k+ token prompts`);
  }
  if (modelContext !== undefined && numCtx > modelContext) {
    return fail(id, title, `OLLAMA_NUM_CTX=${numCtx} is more than the model's ${modelContext}`, `set OLLAMA_NUM_CTX=${modelContext}`);
  }
  if (numCtx < claudeCodeContext) {
    return fail(id, title, `OLLAMA_NUM_CTX=${numCtx} is too small for Claude Code's prompts (12k+ tokens)`, `set OLLAMA_NUM_CTX=${suggested}`);
  }
  return pass(id, title, `num_ctx ${numCtx}${modelContext ? ` of the model's ${modelContext}` : ""}`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function checkProvider(target: ProviderUnderTest, timeoutMs: number): Promise<CheckResult[]> {
  if (target.kind === "ollama") return checkOllama(target, timeoutMs);
  return [await checkHttpProvider({ ...target, kind: target.kind }, timeoutMs)];
}
