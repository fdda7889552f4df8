export const providerNames = ["anthropic", "azure-anthropic", "openai", "azure-openai", "openrouter", "databricks", "llamacpp", "ollama"] as const;
export type ProviderName = (typeof providerNames)[number];
