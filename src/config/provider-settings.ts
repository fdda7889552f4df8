import { providerDescriptors } from "../providers/descriptors.ts";
import type { MissingVariable } from "../providers/descriptor.ts";
import type { ProviderName } from "./provider-names.ts";
import type { Config } from "./schema.ts";

// What each provider needs from the configuration, as its descriptor says (src/providers/*/descriptor.ts).

export type { MissingVariable };

/** Settings a provider cannot work without, whichever role (primary, fallback, rule) it has. */
export function missingProviderVariables(name: ProviderName, env: Config): MissingVariable[] {
  return providerDescriptors[name].missing(env);
}

/** The variable holding each provider's upstream address, named in problems about it. */
export function providerUrlVariable(name: ProviderName): keyof Config {
  return providerDescriptors[name].addressVariable;
}
