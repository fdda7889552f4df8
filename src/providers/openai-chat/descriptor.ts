import type { Config } from "../../config/schema.ts";
import { defaultLlamaCppEndpoint, defaultOpenAiEndpoint } from "../../config/sections/openai-family.ts";
import { requireVariables, type MissingVariable, type ProviderDescriptor, type ProviderUnderTest, type Question } from "../descriptor.ts";
import { checkHttpProvider, type HealthCall } from "../health-probe.ts";
import { createOpenAiFamilyProvider, optionsFor } from "./configured.ts";
import { chatFlavors, type ChatFlavor } from "./flavors.ts";

// The OpenAI Chat Completions providers, one row per flavor: what each needs, what init asks,
// and the cheap authenticated GET its health probe makes (then the chat URL itself is probed).

interface FlavorRow {
  hint: string;
  questions: Question[];
  missing(config: Config): MissingVariable[];
  /** The cheap GET, from the chat URL the provider posts to. */
  probeUrl(chatUrl: string, config: Config): string;
}

const deploymentNeeded: [keyof Config, string] = [
  "AZURE_OPENAI_DEPLOYMENT",
  "the deployment (model) name, unless AZURE_OPENAI_ENDPOINT is a full …/deployments/NAME/chat/completions URL",
];

const withoutChatPath = (url: string) => url.replace(/\/chat\/completions(\?.*)?$/, "");

const rows: Record<ChatFlavor, FlavorRow> = {
  openai: {
    hint: "OpenAI, or an OpenAI-compatible server (vLLM, LM Studio, ...)",
    questions: [
      { variable: "OPENAI_API_KEY", flag: "api-key", secret: true, label: "OpenAI API key (empty for a self-hosted server that needs none)" },
      { variable: "OPENAI_MODEL", flag: "model", label: "Model" },
      { variable: "OPENAI_ENDPOINT", flag: "endpoint", label: "Chat-completions URL (any OpenAI-compatible server)" },
    ],
    // A self-hosted OpenAI-compatible server usually needs no key; OpenAI itself does.
    missing: (c) =>
      c.OPENAI_ENDPOINT === defaultOpenAiEndpoint ? requireVariables(c, [["OPENAI_API_KEY", "your OpenAI API key, or set OPENAI_ENDPOINT to a server that needs none"]]) : [],
    probeUrl: (chatUrl) => `${withoutChatPath(chatUrl)}/models`,
  },
  "azure-openai": {
    hint: "Azure OpenAI deployment",
    questions: [
      { variable: "AZURE_OPENAI_ENDPOINT", flag: "endpoint", label: "Azure OpenAI resource URL (https://NAME.openai.azure.com)" },
      { variable: "AZURE_OPENAI_API_KEY", flag: "api-key", secret: true, label: "Azure OpenAI key" },
      { variable: "AZURE_OPENAI_DEPLOYMENT", flag: "deployment", label: "Deployment name" },
    ],
    missing: (c) =>
      requireVariables(c, [
        ["AZURE_OPENAI_ENDPOINT", "the resource URL, e.g. https://NAME.openai.azure.com"],
        ["AZURE_OPENAI_API_KEY", "the resource's key, sent as api-key"],
        ...(c.AZURE_OPENAI_ENDPOINT === undefined || !/\/deployments\/[^/]+\/chat\/completions(\?|$)/.test(c.AZURE_OPENAI_ENDPOINT)
          ? [deploymentNeeded]
          : []),
      ]),
    probeUrl: (chatUrl, c) => `${new URL(chatUrl).origin}/openai/models?api-version=${encodeURIComponent(c.AZURE_OPENAI_API_VERSION)}`,
  },
  openrouter: {
    hint: "OpenRouter",
    questions: [
      { variable: "OPENROUTER_API_KEY", flag: "api-key", secret: true, label: "OpenRouter API key" },
      { variable: "OPENROUTER_MODEL", flag: "model", label: "Model" },
    ],
    missing: (c) => requireVariables(c, [["OPENROUTER_API_KEY", "your OpenRouter key"]]),
    // /models answers without a key; /key tells whether the key is valid.
    probeUrl: (chatUrl) => `${withoutChatPath(chatUrl)}/key`,
  },
  databricks: {
    hint: "Databricks model serving",
    questions: [
      { variable: "DATABRICKS_API_BASE", flag: "endpoint", label: "Databricks workspace URL (https://adb-….azuredatabricks.net)" },
      { variable: "DATABRICKS_API_KEY", flag: "api-key", secret: true, label: "Databricks personal access token" },
    ],
    missing: (c) =>
      requireVariables(c, [
        ["DATABRICKS_API_BASE", "the workspace URL, e.g. https://adb-123.4.azuredatabricks.net"],
        ["DATABRICKS_API_KEY", "a personal access token, sent as Bearer"],
      ]),
    probeUrl: (chatUrl) => `${new URL(chatUrl).origin}/api/2.0/serving-endpoints`,
  },
  llamacpp: {
    hint: "local llama.cpp server",
    questions: [
      { variable: "LLAMACPP_ENDPOINT", flag: "endpoint", label: "llama-server base URL", suggestion: defaultLlamaCppEndpoint },
      { variable: "LLAMACPP_MODEL", flag: "model", label: "Model (empty: llama-server's loaded model)" },
      { variable: "LLAMACPP_API_KEY", flag: "api-key", secret: true, label: "llama-server --api-key (empty if none)" },
    ],
    missing: () => [],
    probeUrl: (chatUrl) => `${chatUrl.replace(/(\/v1)?\/chat\/completions$/, "")}/health`,
  },
};

function descriptorFor(kind: ChatFlavor): ProviderDescriptor {
  const { addressVariable, addressForm, keyVariable } = chatFlavors[kind];
  const row = rows[kind];
  const descriptor: ProviderDescriptor = {
    kind,
    hint: row.hint,
    addressVariable,
    addressForm,
    keyVariable,
    missing: row.missing,
    questions: row.questions,
    create: (config, name) => createOpenAiFamilyProvider(kind, config, name),
    // The probes use the very options (URL, credentials) the provider is built with.
    check: async (target: ProviderUnderTest, timeoutMs: number) => {
      const options = optionsFor(kind, target.config, target.name);
      const chatUrl = options.url(options.model);
      const call: HealthCall = { url: row.probeUrl(chatUrl, target.config), headers: options.headers, requestUrl: chatUrl, requestHeaders: options.headers };
      return [await checkHttpProvider(call, descriptor, target, timeoutMs)];
    },
  };
  return descriptor;
}

export const openAiChatDescriptors = {
  openai: descriptorFor("openai"),
  "azure-openai": descriptorFor("azure-openai"),
  openrouter: descriptorFor("openrouter"),
  databricks: descriptorFor("databricks"),
  llamacpp: descriptorFor("llamacpp"),
} satisfies Record<ChatFlavor, ProviderDescriptor>;
