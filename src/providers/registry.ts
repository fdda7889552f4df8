import type { Config, ProviderName } from "../config/schema.ts";
import { anthropicMessagesUrl, azureAnthropicMessagesUrl } from "./anthropic-wire/messages-url.ts";
import { createAnthropicWireProvider, type AnthropicWireOptions } from "./anthropic-wire/provider.ts";
import { createOllamaProvider } from "./ollama/provider.ts";
import { createOpenAiFamilyProvider } from "./openai-chat/configured.ts";
import type { Provider } from "./types.ts";

/** An Anthropic-wire provider's options from the validated config (also what `lynkr doctor` probes). */
export function anthropicWireOptions(kind: "anthropic" | "azure-anthropic", config: Config, name: string): AnthropicWireOptions {
  const common = { name, kind, model: config.MODEL_DEFAULT, timeoutMs: config.ANTHROPIC_UPSTREAM_TIMEOUT_MS };
  if (kind === "anthropic") {
    return {
      ...common,
      messagesUrl: anthropicMessagesUrl(config.ANTHROPIC_UPSTREAM_URL),
      apiKey: config.ANTHROPIC_UPSTREAM_API_KEY,
      anthropicVersion: "2023-06-01",
    };
  }
  return {
    ...common,
    // The schema requires both when this provider is selected.
    messagesUrl: azureAnthropicMessagesUrl(config.AZURE_ANTHROPIC_ENDPOINT ?? ""),
    apiKey: config.AZURE_ANTHROPIC_API_KEY,
    anthropicVersion: config.AZURE_ANTHROPIC_VERSION,
  };
}

// One factory per provider kind; each reads only its own part of the validated config. `name`
// is the kind, or an instance name from the routing file (several providers of one kind).
const factories: Record<ProviderName, (config: Config, name: string) => Provider> = {
  openai: (config, name) => createOpenAiFamilyProvider("openai", config, name),
  "azure-openai": (config, name) => createOpenAiFamilyProvider("azure-openai", config, name),
  openrouter: (config, name) => createOpenAiFamilyProvider("openrouter", config, name),
  databricks: (config, name) => createOpenAiFamilyProvider("databricks", config, name),
  llamacpp: (config, name) => createOpenAiFamilyProvider("llamacpp", config, name),
  anthropic: (config, name) => createAnthropicWireProvider(anthropicWireOptions("anthropic", config, name)),
  "azure-anthropic": (config, name) => createAnthropicWireProvider(anthropicWireOptions("azure-anthropic", config, name)),
  ollama: (config, name) =>
    createOllamaProvider({
      name,
      endpoint: config.OLLAMA_ENDPOINT,
      model: config.OLLAMA_MODEL,
      timeoutMs: config.OLLAMA_TIMEOUT_MS,
      keepAlive: config.OLLAMA_KEEP_ALIVE,
      numCtx: config.OLLAMA_NUM_CTX,
    }),
};

export function createProvider(kind: ProviderName, config: Config, name: string = kind): Provider {
  return factories[kind](config, name);
}
