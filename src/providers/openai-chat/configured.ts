import type { Config } from "../../config/schema.ts";
import { llamaCppEndpoint, type PromptCacheKeySetting, type TranslatedProviderName } from "../../config/sections/openai-family.ts";
import { CapabilityTable } from "../models/capabilities.ts";
import { upstreamSettings } from "../descriptor.ts";
import type { Provider } from "../types.ts";
import { chatFlavors } from "./flavors.ts";
import { createOpenAiChatProvider, type OpenAiChatOptions } from "./provider.ts";

// Each OpenAI-family provider's options from the validated config: its URL semantics, auth
// header and model. Usable for several providers at once (routing builds chains of them).

/** Adds a query parameter the URL lacks (a full Azure URL without api-version). */
function withQuery(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has(name)) parsed.searchParams.set(name, value);
  return parsed.toString();
}

function bearer(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** llama-server's base URL → its chat endpoint; a URL already ending in /v1 or the full path is kept. */
function llamaCppChatUrl(endpoint: string): string {
  if (/\/chat\/completions$/.test(endpoint)) return endpoint;
  if (/\/v1$/.test(endpoint)) return `${endpoint}/chat/completions`;
  return `${endpoint}/v1/chat/completions`;
}

/**
 * Whether `prompt_cache_key` goes out: `auto` sends it only where the API is known to take it
 * (OpenAI's own, Azure's v1): a compatible server (Groq, Mistral…) may refuse a parameter it does
 * not know with a 400 on every request.
 */
function takesPromptCacheKey(setting: PromptCacheKeySetting, knownToTakeIt: boolean): boolean {
  return setting === "on" || (setting === "auto" && knownToTakeIt);
}

const servingEndpoint = /\/serving-endpoints\/([^/]+)\/invocations$/;

type Common = Pick<OpenAiChatOptions, "name" | "flavor" | "modelMap" | "capabilities" | "midSystem" | "settings">;

/** `name` is the kind, or an instance name from the routing file; MODEL_MAP rules name kinds. */
export function optionsFor(kind: TranslatedProviderName, config: Config, name: string): OpenAiChatOptions {
  const common: Common = {
    name,
    flavor: kind,
    modelMap: config.MODEL_MAP.filter((rule) => rule.provider === undefined || rule.provider === kind),
    capabilities: new CapabilityTable(config.MODEL_CAPABILITIES),
    midSystem: "keep",
    // Only LLAMACPP_ENDPOINT has no default in the schema; errors name the address actually used.
    settings: upstreamSettings(name, config, chatFlavors[kind], String(config[chatFlavors[kind].addressVariable] ?? llamaCppEndpoint(config))),
  };
  switch (kind) {
    case "openai":
      return {
        ...common,
        model: config.MODEL_DEFAULT ?? config.OPENAI_MODEL,
        url: () => config.OPENAI_ENDPOINT,
        modelInBody: true,
        promptCacheKey: takesPromptCacheKey(config.OPENAI_PROMPT_CACHE_KEY, new URL(config.OPENAI_ENDPOINT).hostname === "api.openai.com"),
        headers: {
          ...bearer(config.OPENAI_API_KEY),
          ...(config.OPENAI_ORGANIZATION ? { "openai-organization": config.OPENAI_ORGANIZATION } : {}),
        },
        timeoutMs: config.OPENAI_TIMEOUT_MS,
      };
    case "azure-openai": {
      // The schema requires the endpoint, and a deployment unless the endpoint is a full URL.
      const base = config.AZURE_OPENAI_ENDPOINT ?? "";
      const full = /\/chat\/completions(\?|$)/.test(base);
      // A full URL without a deployment (Azure's /openai/v1/ API, AI Foundry's /models/) takes
      // the model in the body; the v1 API takes no api-version.
      const named = /\/deployments\/([^/]+)\//.exec(base)?.[1];
      const modelInBody = full && named === undefined;
      const version = config.AZURE_OPENAI_API_VERSION;
      const deployment = config.MODEL_DEFAULT ?? config.AZURE_OPENAI_DEPLOYMENT ?? named;
      return {
        ...common,
        model: deployment,
        url: (model) => {
          if (full && (modelInBody || model === undefined || model === deployment)) {
            return /\/openai\/v1\//.test(base) ? base : withQuery(base, "api-version", version);
          }
          return `${base.replace(/\/openai\/.*$/, "")}/openai/deployments/${encodeURIComponent(model ?? "")}/chat/completions?api-version=${encodeURIComponent(version)}`;
        },
        modelInBody,
        // Azure's v1 API takes OpenAI's parameters; an older api-version may refuse one it does not know.
        promptCacheKey: takesPromptCacheKey(config.OPENAI_PROMPT_CACHE_KEY, /\/openai\/v1\//.test(base)),
        headers: config.AZURE_OPENAI_API_KEY ? { "api-key": config.AZURE_OPENAI_API_KEY } : {},
        timeoutMs: config.AZURE_OPENAI_TIMEOUT_MS,
      };
    }
    case "openrouter":
      return {
        ...common,
        model: config.MODEL_DEFAULT ?? config.OPENROUTER_MODEL,
        url: () => config.OPENROUTER_ENDPOINT,
        modelInBody: true,
        headers: {
          ...bearer(config.OPENROUTER_API_KEY),
          "x-title": config.OPENROUTER_APP_NAME,
          ...(config.OPENROUTER_SITE_URL ? { "http-referer": config.OPENROUTER_SITE_URL } : {}),
        },
        timeoutMs: config.OPENROUTER_TIMEOUT_MS,
      };
    case "databricks": {
      const base = config.DATABRICKS_API_BASE ?? "";
      const path = config.DATABRICKS_ENDPOINT_PATH;
      const named = servingEndpoint.exec(path)?.[1];
      return {
        ...common,
        // /serving-endpoints/NAME/invocations names the model in the URL; other paths (the
        // OpenAI-compatible /serving-endpoints/chat/completions) take it in the body.
        model: config.MODEL_DEFAULT ?? named,
        url: (model) =>
          named && model ? `${base}${path.replace(servingEndpoint, `/serving-endpoints/${encodeURIComponent(model)}/invocations`)}` : `${base}${path}`,
        modelInBody: named === undefined,
        headers: bearer(config.DATABRICKS_API_KEY),
        timeoutMs: config.DATABRICKS_TIMEOUT_MS,
      };
    }
    case "llamacpp":
      return {
        ...common,
        // llama-server serves the model it loaded; a name is only needed in its router mode.
        model: config.MODEL_DEFAULT ?? config.LLAMACPP_MODEL,
        url: () => llamaCppChatUrl(llamaCppEndpoint(config)),
        modelInBody: true,
        headers: bearer(config.LLAMACPP_API_KEY),
        timeoutMs: config.LLAMACPP_TIMEOUT_MS,
        midSystem: config.LLAMACPP_MID_SYSTEM,
        slots: config.LLAMACPP_SLOTS,
      };
  }
}

export function createOpenAiFamilyProvider(kind: TranslatedProviderName, config: Config, name: string): Provider {
  return createOpenAiChatProvider(optionsFor(kind, config, name));
}
