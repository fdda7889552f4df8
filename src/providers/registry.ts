import type { Config, ProviderName } from "../config/schema.ts";
import { providerDescriptors } from "./descriptors.ts";
import type { Provider } from "./types.ts";

/** The provider of a kind, built from the validated config by its descriptor. */
export function createProvider(kind: ProviderName, config: Config, name: string = kind): Provider {
  return providerDescriptors[kind].create(config, name);
}
