import { requireVariables, type ProviderDescriptor, type ProviderUnderTest } from "../descriptor.ts";
import { checkHttpProvider } from "../health-probe.ts";
import { anthropicAddresses, anthropicWireOptions } from "./configured.ts";
import { configuredHeaders, createAnthropicWireProvider } from "./provider.ts";

// Anthropic itself (or any Anthropic-compatible endpoint) and Claude on Azure AI Foundry.

type AnthropicKind = "anthropic" | "azure-anthropic";

// The same URL forms the provider itself accepts (…/anthropic, …/v1, …/v1/messages, a bare Azure resource).
const modelsUrl = (messagesUrl: string) => `${messagesUrl.replace(/\/messages$/, "")}/models?limit=1`;

async function check(kind: AnthropicKind, descriptor: ProviderDescriptor, target: ProviderUnderTest, timeoutMs: number) {
  const options = anthropicWireOptions(kind, target.config, target.name);
  const headers = configuredHeaders(options);
  return [await checkHttpProvider({ url: modelsUrl(options.messagesUrl), headers, requestUrl: options.messagesUrl, requestHeaders: headers }, descriptor, target, timeoutMs)];
}

export const anthropicDescriptor: ProviderDescriptor = {
  kind: "anthropic",
  hint: "Anthropic's API, or any Anthropic-compatible endpoint",
  ...anthropicAddresses.anthropic,
  missing: () => [],
  questions: [
    { variable: "ANTHROPIC_UPSTREAM_API_KEY", flag: "api-key", secret: true, label: "Anthropic API key (empty: pass on Claude Code's own credentials)" },
    { variable: "ANTHROPIC_UPSTREAM_URL", flag: "endpoint", label: "Anthropic-compatible base URL" },
  ],
  create: (config, name) => createAnthropicWireProvider(anthropicWireOptions("anthropic", config, name)),
  check: (target, timeoutMs) => check("anthropic", anthropicDescriptor, target, timeoutMs),
};

export const azureAnthropicDescriptor: ProviderDescriptor = {
  kind: "azure-anthropic",
  hint: "Claude on Azure AI Foundry",
  ...anthropicAddresses["azure-anthropic"],
  missing: (c) =>
    requireVariables(c, [
      ["AZURE_ANTHROPIC_ENDPOINT", "the Azure AI Foundry Anthropic endpoint URL"],
      ["AZURE_ANTHROPIC_API_KEY", "the resource's key"],
    ]),
  questions: [
    { variable: "AZURE_ANTHROPIC_ENDPOINT", flag: "endpoint", label: "Azure AI Foundry Anthropic endpoint URL" },
    { variable: "AZURE_ANTHROPIC_API_KEY", flag: "api-key", secret: true, label: "Azure Anthropic key" },
  ],
  create: (config, name) => createAnthropicWireProvider(anthropicWireOptions("azure-anthropic", config, name)),
  check: (target, timeoutMs) => check("azure-anthropic", azureAnthropicDescriptor, target, timeoutMs),
};
