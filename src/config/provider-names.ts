export const providerNames = ["anthropic", "azure-anthropic", "openai", "azure-openai", "openrouter", "databricks", "llamacpp"] as const;
export type ProviderName = (typeof providerNames)[number];
