import { httpUrl, int, text } from "../fields.ts";

// Anthropic-wire upstreams: Anthropic itself or any compatible endpoint, and Azure-hosted Anthropic.
export const anthropicEnv = {
  ANTHROPIC_UPSTREAM_URL: httpUrl().optional().transform((v) => v ?? "https://api.anthropic.com"),
  ANTHROPIC_UPSTREAM_API_KEY: text().optional(),
  ANTHROPIC_UPSTREAM_TIMEOUT_MS: int(600_000, 1),
  AZURE_ANTHROPIC_ENDPOINT: httpUrl().optional(),
  AZURE_ANTHROPIC_API_KEY: text().optional(),
  AZURE_ANTHROPIC_VERSION: text().optional().transform((v) => v ?? "2023-06-01"),
};
