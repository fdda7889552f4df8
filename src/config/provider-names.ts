export const providerNames = ["anthropic", "azure-anthropic", "openai", "azure-openai", "openrouter", "databricks", "llamacpp", "ollama"] as const;
export type ProviderName = (typeof providerNames)[number];

/** The providers that can take what Ollama cannot: hybrid routing's cloud tier, failover targets. */
export const cloudProviderNames = providerNames.filter((name) => name !== "ollama");

export function isProviderName(name: string): name is ProviderName {
  return (providerNames as readonly string[]).includes(name);
}
