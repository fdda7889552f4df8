import type { Config, ProviderName } from "../config/schema.ts";
import { anthropicMessagesUrl, azureAnthropicMessagesUrl } from "./anthropic-wire/messages-url.ts";
import { createAnthropicWireProvider } from "./anthropic-wire/provider.ts";
import { createOllamaProvider } from "./ollama/provider.ts";
import { createOpenAiFamilyProvider } from "./openai-chat/configured.ts";
import type { Provider } from "./types.ts";

// One factory per provider kind; each reads only its own part of the validated config. `name`
// is the kind, or an instance name from the routing file (several providers of one kind).
const factories: Record<ProviderName, (config: Config, name: string) => Provider> = {
  openai: (config) => createOpenAiFamilyProvider("openai", config),
  "azure-openai": (config) => createOpenAiFamilyProvider("azure-openai", config),
  openrouter: (config) => createOpenAiFamilyProvider("openrouter", config),
  databricks: (config) => createOpenAiFamilyProvider("databricks", config),
  llamacpp: (config) => createOpenAiFamilyProvider("llamacpp", config),
  anthropic: (config, name) =>
    createAnthropicWireProvider({
      name,
      kind: "anthropic",
      messagesUrl: anthropicMessagesUrl(config.ANTHROPIC_UPSTREAM_URL),
      apiKey: config.ANTHROPIC_UPSTREAM_API_KEY,
      anthropicVersion: "2023-06-01",
      model: config.MODEL_DEFAULT,
      timeoutMs: config.ANTHROPIC_UPSTREAM_TIMEOUT_MS,
    }),
  "azure-anthropic": (config, name) =>
    createAnthropicWireProvider({
      name,
      kind: "azure-anthropic",
      // The schema requires both when this provider is selected.
      messagesUrl: azureAnthropicMessagesUrl(config.AZURE_ANTHROPIC_ENDPOINT ?? ""),
      apiKey: config.AZURE_ANTHROPIC_API_KEY,
      anthropicVersion: config.AZURE_ANTHROPIC_VERSION,
      model: config.MODEL_DEFAULT,
      timeoutMs: config.ANTHROPIC_UPSTREAM_TIMEOUT_MS,
    }),
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
