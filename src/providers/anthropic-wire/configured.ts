import type { Config } from "../../config/schema.ts";
import { upstreamSettings, type AddressSettings } from "../descriptor.ts";
import { anthropicMessagesUrl, azureAnthropicMessagesUrl } from "./messages-url.ts";
import type { AnthropicWireOptions } from "./provider.ts";

// Each Anthropic-wire provider's options from the validated config (also what `lynkr doctor` probes).

export const anthropicAddresses: Record<"anthropic" | "azure-anthropic", AddressSettings> = {
  anthropic: {
    addressVariable: "ANTHROPIC_UPSTREAM_URL",
    addressForm: "the base URL the Anthropic SDK takes, e.g. https://api.anthropic.com (lynkr adds /v1/messages)",
    keyVariable: "ANTHROPIC_UPSTREAM_API_KEY",
  },
  "azure-anthropic": {
    addressVariable: "AZURE_ANTHROPIC_ENDPOINT",
    addressForm: "the resource URL (https://NAME.services.ai.azure.com) or its …/anthropic base URL",
    keyVariable: "AZURE_ANTHROPIC_API_KEY",
  },
};

/** Anthropic's own API, the host a client's Anthropic credential is meant for. */
export function isAnthropicApi(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "https:" && hostname === "api.anthropic.com";
}

export function anthropicWireOptions(kind: "anthropic" | "azure-anthropic", config: Config, name: string): AnthropicWireOptions {
  const common = { name, kind, model: config.MODEL_DEFAULT, timeoutMs: config.ANTHROPIC_UPSTREAM_TIMEOUT_MS };
  if (kind === "anthropic") {
    // A client's credential goes only where it was meant for: Anthropic, or a host the operator opted in.
    const forwardClientCredentials = config.ANTHROPIC_FORWARD_CLIENT_CREDENTIALS || isAnthropicApi(config.ANTHROPIC_UPSTREAM_URL);
    return {
      ...common,
      messagesUrl: anthropicMessagesUrl(config.ANTHROPIC_UPSTREAM_URL),
      apiKey: config.ANTHROPIC_UPSTREAM_API_KEY,
      forwardClientCredentials,
      anthropicVersion: "2023-06-01",
      // Without a key of its own lynkr passes on the client's, where it may.
      settings: upstreamSettings(name, config, anthropicAddresses.anthropic, config.ANTHROPIC_UPSTREAM_URL, forwardClientCredentials),
    };
  }
  // The schema requires both when this provider is selected.
  const endpoint = config.AZURE_ANTHROPIC_ENDPOINT ?? "";
  return {
    ...common,
    messagesUrl: azureAnthropicMessagesUrl(endpoint),
    apiKey: config.AZURE_ANTHROPIC_API_KEY,
    forwardClientCredentials: false,
    anthropicVersion: config.AZURE_ANTHROPIC_VERSION,
    settings: upstreamSettings(name, config, anthropicAddresses["azure-anthropic"], endpoint, true),
  };
}
