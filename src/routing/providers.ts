import { isProviderName, type ProviderName } from "../config/provider-names.ts";
import type { RoutingFile } from "../config/routing-file.ts";
import type { Config } from "../config/schema.ts";
import { effectiveFallback, isProviderConfigured } from "../config/sections/routing.ts";
import { createProvider } from "../providers/registry.ts";
import type { Provider } from "../providers/types.ts";

// The providers routing can reach, built once at the composition root: the router only picks
// among them. Which ones are reachable (and whether a tier has its settings) is decided here, so
// the router never reads a provider's own settings.

export interface RouteProviders {
  /** MODEL_PROVIDER's provider. */
  readonly primary: Provider;
  /** Every provider some request can reach, by name, the primary first. */
  readonly byName: ReadonlyMap<string, Provider>;
  /** The fallback chain, tried after every route's own targets (empty with FALLBACK_ENABLED=false). */
  readonly fallback: readonly string[];
  /** Hybrid routing's cloud tiers: whether OpenRouter has its settings, and the cloud provider behind it. */
  readonly hybrid: { readonly openRouter: boolean; readonly cloud: ProviderName };
}

/** Builds, from the environment and the routing file's named instances, every provider requests can reach. */
export function buildRouteProviders(config: Config, file: RoutingFile | undefined): RouteProviders {
  const build = (name: string): Provider => {
    const instance = file?.instances.get(name);
    if (instance) return createProvider(instance.type, instance.config, name);
    if (isProviderName(name)) return createProvider(name, config);
    // The routing file is checked at load time; an unknown name here is a bug.
    throw new Error(`routing refers to unknown provider ${name}`);
  };

  const cloud = effectiveFallback(config);
  const fallback: string[] = !config.FALLBACK_ENABLED
    ? []
    : (file?.fallback ?? (cloud.explicit || config.PREFER_OLLAMA || isProviderConfigured(cloud.provider, config) ? [cloud.provider] : []));
  const openRouter = isProviderConfigured("openrouter", config);
  // Every provider some request can reach: for routes, /v1/models, `lynkr doctor` and the start-up log.
  const reachable = [
    ...(config.PREFER_OLLAMA ? ["ollama", ...(openRouter ? ["openrouter"] : []), cloud.provider] : []),
    ...[file?.rules.default, file?.rules.background, file?.rules.think, file?.rules.longContext].flatMap((t) => (t ? [t.provider] : [])),
    ...fallback,
    ...(file?.instances.keys() ?? []),
  ];
  const primary = build(config.MODEL_PROVIDER);
  const built = new Map<string, Provider>([[config.MODEL_PROVIDER, primary]]);
  for (const name of reachable) if (!built.has(name)) built.set(name, build(name));
  return { primary, byName: built, fallback, hybrid: { openRouter, cloud: cloud.provider } };
}
