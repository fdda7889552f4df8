import type { ProviderName } from "./provider-names.ts";
import type { Config } from "./schema.ts";
import { defaultOpenAiEndpoint } from "./sections/openai-family.ts";

// What each provider needs from the configuration, in one place: the variables it cannot work
// without (each caller says why they are required), and the variable holding its address.

export interface MissingVariable {
  variable: string;
  /** What to put there. */
  hint: string;
}

/** Settings a provider cannot work without, whichever role (primary, fallback, rule) it has. */
export function missingProviderVariables(name: ProviderName, env: Config): MissingVariable[] {
  const missing: MissingVariable[] = [];
  const need = (variable: keyof Config, hint: string) => {
    if (env[variable] === undefined) missing.push({ variable, hint });
  };
  switch (name) {
    case "azure-anthropic":
      need("AZURE_ANTHROPIC_ENDPOINT", "the Azure AI Foundry Anthropic endpoint URL");
      need("AZURE_ANTHROPIC_API_KEY", "the resource's key");
      break;
    case "openai":
      // A self-hosted OpenAI-compatible server usually needs no key; OpenAI itself does.
      if (env.OPENAI_ENDPOINT === defaultOpenAiEndpoint) need("OPENAI_API_KEY", "your OpenAI API key, or set OPENAI_ENDPOINT to a server that needs none");
      break;
    case "azure-openai":
      need("AZURE_OPENAI_ENDPOINT", "the resource URL, e.g. https://NAME.openai.azure.com");
      need("AZURE_OPENAI_API_KEY", "the resource's key, sent as api-key");
      if (env.AZURE_OPENAI_ENDPOINT === undefined || !/\/deployments\/[^/]+\/chat\/completions(\?|$)/.test(env.AZURE_OPENAI_ENDPOINT)) {
        need("AZURE_OPENAI_DEPLOYMENT", "the deployment (model) name, unless AZURE_OPENAI_ENDPOINT is a full …/deployments/NAME/chat/completions URL");
      }
      break;
    case "openrouter":
      need("OPENROUTER_API_KEY", "your OpenRouter key");
      break;
    case "databricks":
      need("DATABRICKS_API_BASE", "the workspace URL, e.g. https://adb-123.4.azuredatabricks.net");
      need("DATABRICKS_API_KEY", "a personal access token, sent as Bearer");
      break;
  }
  return missing;
}

/** The variable holding each provider's upstream address, named in problems about it. */
export const providerUrlVariable = {
  anthropic: "ANTHROPIC_UPSTREAM_URL",
  "azure-anthropic": "AZURE_ANTHROPIC_ENDPOINT",
  openai: "OPENAI_ENDPOINT",
  "azure-openai": "AZURE_OPENAI_ENDPOINT",
  openrouter: "OPENROUTER_ENDPOINT",
  databricks: "DATABRICKS_API_BASE",
  llamacpp: "LLAMACPP_ENDPOINT",
  ollama: "OLLAMA_ENDPOINT",
} as const satisfies Record<ProviderName, keyof Config>;
