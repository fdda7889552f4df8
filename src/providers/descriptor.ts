import type { ProviderName } from "../config/provider-names.ts";
import type { Config, envShape } from "../config/schema.ts";
import type { CheckResult } from "./check-result.ts";
import type { Provider } from "./types.ts";
import type { UpstreamSettings } from "./upstream-error.ts";

// Everything lynkr knows about one provider kind, in its own folder: what configuration it needs,
// which variable holds its address and key, how it is built, how it is probed, what `lynkr init`
// asks for it. Config validation, the registry, doctor, /health/ready?deep and init read this.

export interface MissingVariable {
  variable: string;
  /** What to put there. */
  hint: string;
}

/** The flag that sets an init answer for the main provider in scripts (`--api-key`, ...). */
export type ValueFlag = "api-key" | "endpoint" | "model" | "deployment";

/** One thing `lynkr init` asks, under the variable name the configuration reads. */
export interface Question {
  variable: keyof typeof envShape;
  label: string;
  flag: ValueFlag;
  /** Read without echo, never printed. */
  secret?: boolean;
  /** Offered when the configuration has no default of its own but the provider does. */
  suggestion?: string;
}

/** A provider doctor probes: its routing name (a kind or a routing-file instance), kind and settings. */
export interface ProviderUnderTest {
  name: string;
  kind: ProviderName;
  /** The settings this provider is built from (an instance's own on top of the environment). */
  config: Config;
}

export interface ProviderDescriptor extends AddressSettings {
  kind: ProviderName;
  /** One line for init's provider menu. */
  hint: string;
  /** Settings the provider cannot work without, whichever role (primary, fallback, rule) it has. */
  missing(config: Config): MissingVariable[];
  /** What `lynkr init` asks, in order. */
  questions: Question[];
  /** `name` is the kind, or an instance name from the routing file (several providers of one kind). */
  create(config: Config, name: string): Provider;
  /** The cheapest real calls that tell whether the provider works: never a generation. */
  check(target: ProviderUnderTest, timeoutMs: number): Promise<CheckResult[]>;
}

/** A variable the configuration lacks, for `missing`. */
export function requireVariables(config: Config, needed: [keyof Config, string][]): MissingVariable[] {
  return needed.filter(([variable]) => config[variable] === undefined).map(([variable, hint]) => ({ variable, hint }));
}

/** Where a provider kind's address and key live, and what the address must look like. */
export interface AddressSettings {
  /** The variable holding the upstream's address, named in problems about it. */
  addressVariable: keyof Config;
  /** What the address must be, said after "set it to" when the upstream has no such path. */
  addressForm: string;
  /** The variable holding the key lynkr sends; when it is unset, lynkr sends none (or the client's own). */
  keyVariable?: keyof Config;
}

/** The settings behind one provider's calls, for its errors ("… rejected the key in OPENAI_API_KEY"). */
export function upstreamSettings(name: string, config: Config, address: AddressSettings, addressValue: string, passesClientKey = false): UpstreamSettings {
  const keySet = address.keyVariable !== undefined && config[address.keyVariable] !== undefined;
  return {
    provider: name,
    addressVariable: address.addressVariable,
    address: addressValue,
    addressForm: address.addressForm,
    keyVariable: address.keyVariable,
    keySource: keySet ? "lynkr" : passesClientKey ? "client" : "none",
  };
}
