import { bool, httpUrl, int, text } from "../fields.ts";

// Anthropic-wire upstreams: Anthropic itself or any compatible endpoint, and Azure-hosted Anthropic.
export const anthropicEnv = {
  ANTHROPIC_UPSTREAM_URL: httpUrl().optional().transform((v) => v ?? "https://api.anthropic.com"),
  ANTHROPIC_UPSTREAM_API_KEY: text().optional(),
  /**
   * Without ANTHROPIC_UPSTREAM_API_KEY, a client's own credential (x-api-key, Authorization) goes
   * on to api.anthropic.com only; true lets it go to ANTHROPIC_UPSTREAM_URL whatever its host.
   */
  ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: bool(false),
  ANTHROPIC_UPSTREAM_TIMEOUT_MS: int(600_000, 1),
  AZURE_ANTHROPIC_ENDPOINT: httpUrl().optional(),
  AZURE_ANTHROPIC_API_KEY: text().optional(),
  AZURE_ANTHROPIC_VERSION: text().optional().transform((v) => v ?? "2023-06-01"),
};
