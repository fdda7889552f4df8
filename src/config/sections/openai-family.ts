import { z } from "zod";
import { httpUrl, int, oneOf, text } from "../fields.ts";

// Providers spoken to through OpenAI's Chat Completions wire format: OpenAI (and any
// OpenAI-compatible server), Azure OpenAI, OpenRouter, Databricks model serving, llama.cpp.

export const promptCacheKeySettings = ["auto", "on", "off"] as const;
export type PromptCacheKeySetting = (typeof promptCacheKeySettings)[number];

export const defaultOpenAiEndpoint = "https://api.openai.com/v1/chat/completions";
export const defaultOpenRouterEndpoint = "https://openrouter.ai/api/v1/chat/completions";
export const defaultLlamaCppEndpoint = "http://localhost:8080";

/** llama-server's base URL: set, or its own default (which is lynkr's default port too). */
export function llamaCppEndpoint(config: { LLAMACPP_ENDPOINT?: string | undefined }): string {
  return config.LLAMACPP_ENDPOINT ?? defaultLlamaCppEndpoint;
}
export const defaultDatabricksEndpointPath = "/serving-endpoints/databricks-claude-sonnet-4-5/invocations";

const timeout = () => int(600_000, 1);

export const translatedProviderNames = ["openai", "azure-openai", "openrouter", "databricks", "llamacpp"] as const;
export type TranslatedProviderName = (typeof translatedProviderNames)[number];

/** One `MODEL_MAP` rule: client models containing `pattern` go to `model` (on `provider`, or on all). */
export interface ModelMapRule {
  provider: TranslatedProviderName | undefined;
  pattern: string;
  model: string;
}

const modelMapError =
  "expected comma-separated rules pattern=model or provider:pattern=model, e.g. haiku=gpt-4o-mini,openrouter:haiku=openai/gpt-4o-mini";

function parseModelMap(value: string, ctx: z.RefinementCtx): ModelMapRule[] {
  const rules: ModelMapRule[] = [];
  for (const part of value.split(",")) {
    const rule = part.trim();
    if (rule === "") continue;
    const eq = rule.indexOf("=");
    const left = eq < 0 ? "" : rule.slice(0, eq).trim();
    const model = eq < 0 ? "" : rule.slice(eq + 1).trim();
    const colon = left.indexOf(":");
    const provider = colon < 0 ? undefined : left.slice(0, colon).trim();
    const pattern = (colon < 0 ? left : left.slice(colon + 1)).trim().toLowerCase();
    if (!pattern || !model) {
      ctx.addIssue({ code: "custom", message: `${modelMapError} (bad rule ${JSON.stringify(rule)})` });
      return z.NEVER;
    }
    if (provider !== undefined && !(translatedProviderNames as readonly string[]).includes(provider)) {
      ctx.addIssue({
        code: "custom",
        message: `unknown provider ${JSON.stringify(provider)} in rule ${JSON.stringify(rule)}; expected one of: ${translatedProviderNames.join(", ")}`,
      });
      return z.NEVER;
    }
    rules.push({ provider: provider as TranslatedProviderName | undefined, pattern, model });
  }
  return rules;
}

export const capabilityOverrideSchema = z.strictObject({
  context_window: z.number().int().positive().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  tools: z.boolean().optional(),
  images: z.boolean().optional(),
  pdf: z.boolean().optional(),
  reasoning: z.boolean().optional(),
  reasoning_history: z.boolean().optional(),
  cache_control: z.boolean().optional(),
});
export type CapabilityOverride = z.infer<typeof capabilityOverrideSchema>;

const capabilitiesError =
  'expected a JSON object of model → limits, e.g. {"my-model":{"context_window":32768,"max_output_tokens":4096,"tools":true,"images":false,"pdf":false,"reasoning":false,"reasoning_history":false}}';

function parseCapabilities(value: string, ctx: z.RefinementCtx): Record<string, CapabilityOverride> {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: "custom", message: `${capabilitiesError} (not valid JSON)` });
    return z.NEVER;
  }
  const parsed = z.record(z.string().min(1), capabilityOverrideSchema).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".")}: ${issue.message}` : "";
    ctx.addIssue({ code: "custom", message: `${capabilitiesError} (${where})` });
    return z.NEVER;
  }
  return Object.fromEntries(Object.entries(parsed.data).map(([k, v]) => [k.toLowerCase(), v]));
}

export const openAiFamilyEnv = {
  OPENAI_API_KEY: text().optional(),
  OPENAI_MODEL: text().optional().transform((v) => v ?? "gpt-4o"),
  /** Full URL of the chat-completions endpoint (any OpenAI-compatible server: vLLM, LM Studio, LocalAI, SGLang). */
  OPENAI_ENDPOINT: httpUrl().optional().transform((v) => v ?? defaultOpenAiEndpoint),
  OPENAI_ORGANIZATION: text().optional(),
  /**
   * OpenAI's `prompt_cache_key` (the conversation) on openai and azure-openai requests, so one
   * conversation reaches the machine holding its cached prefix. auto: only where the API is known
   * to take it (api.openai.com, Azure's /openai/v1/ API).
   */
  OPENAI_PROMPT_CACHE_KEY: oneOf(promptCacheKeySettings, "auto"),
  OPENAI_TIMEOUT_MS: timeout(),

  /** The resource's base URL (https://NAME.openai.azure.com), or a full chat-completions URL. */
  AZURE_OPENAI_ENDPOINT: httpUrl().optional(),
  AZURE_OPENAI_API_KEY: text().optional(),
  AZURE_OPENAI_DEPLOYMENT: text().optional(),
  AZURE_OPENAI_API_VERSION: text().optional().transform((v) => v ?? "2024-10-21"),
  AZURE_OPENAI_TIMEOUT_MS: timeout(),

  OPENROUTER_API_KEY: text().optional(),
  OPENROUTER_MODEL: text().optional().transform((v) => v ?? "openai/gpt-4o-mini"),
  /** Full URL of OpenRouter's chat-completions endpoint. */
  OPENROUTER_ENDPOINT: httpUrl().optional().transform((v) => v ?? defaultOpenRouterEndpoint),
  /** Attribution: sent as HTTP-Referer and X-Title so the app shows in OpenRouter's rankings. */
  OPENROUTER_SITE_URL: httpUrl().optional(),
  OPENROUTER_APP_NAME: text().optional().transform((v) => v ?? "lynkr"),
  OPENROUTER_TIMEOUT_MS: timeout(),

  /** Workspace URL, e.g. https://adb-123.4.azuredatabricks.net; DATABRICKS_ENDPOINT_PATH is appended. */
  DATABRICKS_API_BASE: httpUrl().optional(),
  DATABRICKS_API_KEY: text().optional(),
  DATABRICKS_ENDPOINT_PATH: text()
    .regex(/^\//, { error: "expected a path starting with /, e.g. /serving-endpoints/NAME/invocations" })
    .optional()
    .transform((v) => v ?? defaultDatabricksEndpointPath),
  DATABRICKS_TIMEOUT_MS: timeout(),

  /** llama-server's base URL; lynkr calls {base}/v1/chat/completions. Default http://localhost:8080. */
  LLAMACPP_ENDPOINT: httpUrl().optional(),
  LLAMACPP_MODEL: text().optional(),
  LLAMACPP_API_KEY: text().optional(),
  LLAMACPP_TIMEOUT_MS: timeout(),
  /**
   * Where role:"system" messages from the middle of a conversation go: kept in place as system
   * messages, or merged into the user turn before them (many GGUF chat templates reject a
   * system message that is not first).
   */
  LLAMACPP_MID_SYSTEM: oneOf(["keep", "merge"], "merge"),
  /**
   * llama-server's slot count (its -np): each conversation is kept on one slot (`id_slot`), whose
   * KV cache holds its prefix. 0: lynkr names no slot and the server picks one per request.
   */
  LLAMACPP_SLOTS: int(0, 0, 1_024),

  /** Client model → upstream model rules for the translated providers, e.g. haiku=gpt-4o-mini. */
  MODEL_MAP: z.string().optional().transform((v, ctx) => (v === undefined ? [] : parseModelMap(v, ctx))),
  /** Per-model limits that replace or extend the built-in capability table (JSON). */
  MODEL_CAPABILITIES: z
    .string()
    .optional()
    .transform((v, ctx) => (v === undefined ? {} : parseCapabilities(v, ctx))),
};
