export const providerNames = ["anthropic", "azure-anthropic"] as const;
export type ProviderName = (typeof providerNames)[number];
