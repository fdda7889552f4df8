import { providerNames, type ProviderName } from "../config/provider-names.ts";
import { anthropicDescriptor, azureAnthropicDescriptor } from "./anthropic-wire/descriptor.ts";
import type { CheckResult } from "./check-result.ts";
import type { ProviderDescriptor, ProviderUnderTest } from "./descriptor.ts";
import { ollamaDescriptor } from "./ollama/descriptor.ts";
import { openAiChatDescriptors } from "./openai-chat/descriptor.ts";

/** Every provider kind's descriptor, in the order `lynkr init` offers them. */
export const providerDescriptors: Record<ProviderName, ProviderDescriptor> = {
  anthropic: anthropicDescriptor,
  "azure-anthropic": azureAnthropicDescriptor,
  ...openAiChatDescriptors,
  ollama: ollamaDescriptor,
};

/** One value per provider kind, read from its descriptor. */
export function perProvider<T>(pick: (descriptor: ProviderDescriptor) => T): Record<ProviderName, T> {
  const out: Partial<Record<ProviderName, T>> = {};
  for (const name of providerNames) out[name] = pick(providerDescriptors[name]);
  return out as Record<ProviderName, T>;
}

/** Doctor's and /health/ready?deep's probe of one provider. */
export function checkProvider(target: ProviderUnderTest, timeoutMs: number): Promise<CheckResult[]> {
  return providerDescriptors[target.kind].check(target, timeoutMs);
}
