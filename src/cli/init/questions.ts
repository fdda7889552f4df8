import type { ProviderName } from "../../config/provider-names.ts";
import { envShape } from "../../config/schema.ts";
import { defaultLlamaCppEndpoint } from "../../config/sections/openai-family.ts";

// What `lynkr init` asks for each provider: the settings a first run needs, under the variable
// names the configuration reads (src/config/sections). Everything else keeps its default and can
// be added to the file by hand (README: Configuration).

/** The flag that sets this value for the main provider in scripts (`--api-key`, ...). */
export type ValueFlag = "api-key" | "endpoint" | "model" | "deployment";

export interface Question {
  variable: keyof typeof envShape;
  label: string;
  flag: ValueFlag;
  /** Read without echo, never printed. */
  secret?: boolean;
  /** Offered when the configuration has no default of its own but the provider does. */
  suggestion?: string;
}

export const providerQuestions: Record<ProviderName, Question[]> = {
  anthropic: [
    { variable: "ANTHROPIC_UPSTREAM_API_KEY", flag: "api-key", secret: true, label: "Anthropic API key (empty: pass on Claude Code's own credentials)" },
    { variable: "ANTHROPIC_UPSTREAM_URL", flag: "endpoint", label: "Anthropic-compatible base URL" },
  ],
  "azure-anthropic": [
    { variable: "AZURE_ANTHROPIC_ENDPOINT", flag: "endpoint", label: "Azure AI Foundry Anthropic endpoint URL" },
    { variable: "AZURE_ANTHROPIC_API_KEY", flag: "api-key", secret: true, label: "Azure Anthropic key" },
  ],
  openai: [
    { variable: "OPENAI_API_KEY", flag: "api-key", secret: true, label: "OpenAI API key (empty for a self-hosted server that needs none)" },
    { variable: "OPENAI_MODEL", flag: "model", label: "Model" },
    { variable: "OPENAI_ENDPOINT", flag: "endpoint", label: "Chat-completions URL (any OpenAI-compatible server)" },
  ],
  "azure-openai": [
    { variable: "AZURE_OPENAI_ENDPOINT", flag: "endpoint", label: "Azure OpenAI resource URL (https://NAME.openai.azure.com)" },
    { variable: "AZURE_OPENAI_API_KEY", flag: "api-key", secret: true, label: "Azure OpenAI key" },
    { variable: "AZURE_OPENAI_DEPLOYMENT", flag: "deployment", label: "Deployment name" },
  ],
  openrouter: [
    { variable: "OPENROUTER_API_KEY", flag: "api-key", secret: true, label: "OpenRouter API key" },
    { variable: "OPENROUTER_MODEL", flag: "model", label: "Model" },
  ],
  databricks: [
    { variable: "DATABRICKS_API_BASE", flag: "endpoint", label: "Databricks workspace URL (https://adb-….azuredatabricks.net)" },
    { variable: "DATABRICKS_API_KEY", flag: "api-key", secret: true, label: "Databricks personal access token" },
  ],
  llamacpp: [
    { variable: "LLAMACPP_ENDPOINT", flag: "endpoint", label: "llama-server base URL", suggestion: defaultLlamaCppEndpoint },
    { variable: "LLAMACPP_MODEL", flag: "model", label: "Model (empty: llama-server's loaded model)" },
    { variable: "LLAMACPP_API_KEY", flag: "api-key", secret: true, label: "llama-server --api-key (empty if none)" },
  ],
  ollama: [
    { variable: "OLLAMA_ENDPOINT", flag: "endpoint", label: "Ollama URL" },
    { variable: "OLLAMA_MODEL", flag: "model", label: "Ollama model (one that takes tools)" },
  ],
};

export const providerHints: Record<ProviderName, string> = {
  anthropic: "Anthropic's API, or any Anthropic-compatible endpoint",
  "azure-anthropic": "Claude on Azure AI Foundry",
  openai: "OpenAI, or an OpenAI-compatible server (vLLM, LM Studio, ...)",
  "azure-openai": "Azure OpenAI deployment",
  openrouter: "OpenRouter",
  databricks: "Databricks model serving",
  llamacpp: "local llama.cpp server",
  ollama: "local Ollama",
};

/** What an unanswered question means: the configuration's own default, else the provider's. */
export function defaultAnswer(question: Question): string | undefined {
  const parsed = envShape[question.variable].safeParse(undefined);
  return parsed.success && typeof parsed.data === "string" ? parsed.data : question.suggestion;
}
