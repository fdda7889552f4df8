import type { MessagesRequest } from "../anthropic/schema.ts";
import { isProviderName } from "../config/provider-names.ts";
import type { Config } from "../config/schema.ts";
import { effectiveFallback, isProviderConfigured } from "../config/sections/routing.ts";
import { countIfNear, countIfNearSliced } from "../optimize/tokens.ts";
import { createProvider } from "../providers/registry.ts";
import type { CallContext, Provider } from "../providers/types.ts";
import type { CircuitBus } from "../shared-state/ports.ts";
import { BreakerRegistry, type CircuitView } from "./breaker-registry.ts";
import { callRoute, type Answer } from "./call-route.ts";
import type { BreakerSettings, CircuitBreaker } from "./circuit-breaker.ts";
import { loadRoutingFile, type RoutingFile, type TargetRef } from "../config/routing-file.ts";
import { RoutingEvents, type RouteRule } from "./events.ts";
import type { RetrySettings } from "./failure.ts";
import { RetryBudget, type RetryBudgetSettings } from "./retry-budget.ts";

// Decides, per request, which providers answer and in which order, and says why. Rules from
// the LYNKR_CONFIG file come first, then the hybrid tiers (PREFER_OLLAMA), then MODEL_PROVIDER;
// the fallback providers follow in every chain.

export interface Target {
  provider: Provider;
  /** A rule's model, which wins over the provider's own. */
  model?: string;
}

export interface Route {
  /** Providers to try, in order; the first that accepts the request answers it. */
  chain: Target[];
  rule: RouteRule;
  /** Why this route was chosen, for logs and the x-lynkr-route header (ASCII). */
  reason: string;
}

export type ProviderCircuit = CircuitView;

export interface RoutingSettings {
  retry: RetrySettings;
  retryBudget: RetryBudgetSettings;
  breaker: BreakerSettings;
  fallbackEnabled: boolean;
}

export interface Router {
  readonly primary: Provider;
  /** Every configured provider, for /v1/models and health checks. */
  readonly providers: Provider[];
  /** Decisions, fallbacks, retries and circuit changes, for metrics. */
  readonly events: RoutingEvents;
  readonly settings: RoutingSettings;
  /** The provider's breaker; with `credential` (a client's own, passed through), that credential's. */
  breakerFor(provider: string, credential?: string): CircuitBreaker;
  /** The provider's retry budget (retries in flight against requests in flight). */
  retryBudgetFor(provider: string): RetryBudget;
  /**
   * Every provider's circuit (one never called is closed), then each pass-through credential's,
   * for health checks and metrics.
   */
  circuits(): ProviderCircuit[];
  /** `bodyBytes`: the client's body size, where known (else the request is serialized to measure it). */
  route(request: MessagesRequest, bodyBytes?: number): Route;
  /**
   * Routes the request (or takes `route`, made for it earlier) and calls its chain until a
   * provider produced the first event (see call-route.ts). A failure is a RoutedError carrying
   * the route facts.
   */
  call(request: MessagesRequest, ctx: CallContext & { bodyBytes?: number }, route?: Route): Promise<Answer>;
  /** Counts what `route` will count (a longContext rule) a slice at a time, so `route` holds the event loop for no count. */
  prepare(request: MessagesRequest, bodyBytes?: number): Promise<void>;
}

/** Thinking asked for explicitly: a budget, or adaptive thinking at high effort. */
export function wantsThinking(request: MessagesRequest): boolean {
  const thinking = request.thinking;
  if (!thinking) return false;
  if (thinking.type === "enabled") return true;
  const effort = request.output_config?.effort;
  return thinking.type === "adaptive" && (effort === "high" || effort === "xhigh" || effort === "max");
}

interface Decision {
  targets: TargetRef[];
  rule: RouteRule;
  reason: string;
}

export interface RouterOptions {
  /** The routing file already read; null for none; absent → read LYNKR_CONFIG now. */
  file?: RoutingFile | null;
  /** Where provider circuits are shared with other replicas (src/shared-state/); absent → this process only. */
  circuits?: CircuitBus;
}

export function createRouter(config: Config, options: RouterOptions = {}): Router {
  const file = options.file === undefined ? loadRoutingFile(config) : (options.file ?? undefined);
  const events = new RoutingEvents();
  const settings: RoutingSettings = {
    retry: {
      maxRetries: config.API_RETRY_MAX_RETRIES,
      initialDelayMs: config.API_RETRY_INITIAL_DELAY,
      maxDelayMs: config.API_RETRY_MAX_DELAY,
    },
    retryBudget: { percent: config.RETRY_BUDGET_PERCENT, min: config.RETRY_BUDGET_MIN },
    breaker: {
      failureThreshold: config.CIRCUIT_BREAKER_FAILURE_THRESHOLD,
      successThreshold: config.CIRCUIT_BREAKER_SUCCESS_THRESHOLD,
      timeoutMs: config.CIRCUIT_BREAKER_TIMEOUT,
    },
    fallbackEnabled: config.FALLBACK_ENABLED,
  };

  const built = new Map<string, Provider>();
  const providerFor = (name: string): Provider => {
    let provider = built.get(name);
    if (!provider) {
      const instance = file?.instances.get(name);
      if (instance) provider = createProvider(instance.type, instance.config, name);
      else if (isProviderName(name)) provider = createProvider(name, config);
      // The routing file is checked at load time; an unknown name here is a bug.
      else throw new Error(`routing refers to unknown provider ${name}`);
      built.set(name, provider);
    }
    return provider;
  };

  const breakers = new BreakerRegistry(settings.breaker, (change) => events.emit("circuit", change), options.circuits);
  const budgets = new Map<string, RetryBudget>();
  const retryBudgetFor = (name: string): RetryBudget => {
    let budget = budgets.get(name);
    if (!budget) {
      budget = new RetryBudget(settings.retryBudget);
      budgets.set(name, budget);
    }
    return budget;
  };

  const fallback = effectiveFallback(config);
  const fallbackNames: string[] = !config.FALLBACK_ENABLED
    ? []
    : (file?.fallback ??
      (fallback.explicit || config.PREFER_OLLAMA || isProviderConfigured(fallback.provider, config) ? [fallback.provider] : []));
  const openRouterReady = isProviderConfigured("openrouter", config);

  function hybrid(request: MessagesRequest): Decision {
    const tools = request.tools?.length ?? 0;
    const targets: TargetRef[] = [];
    const notes: string[] = [];
    if (tools < config.OLLAMA_MAX_TOOLS_FOR_ROUTING) {
      targets.push({ provider: "ollama" });
      notes.push(`${tools} tools < OLLAMA_MAX_TOOLS_FOR_ROUTING=${config.OLLAMA_MAX_TOOLS_FOR_ROUTING}: ollama`);
    } else {
      notes.push(`${tools} tools >= OLLAMA_MAX_TOOLS_FOR_ROUTING=${config.OLLAMA_MAX_TOOLS_FOR_ROUTING}`);
    }
    if (openRouterReady && tools < config.OPENROUTER_MAX_TOOLS_FOR_ROUTING) {
      targets.push({ provider: "openrouter" });
      if (targets.length === 1) notes.push(`< OPENROUTER_MAX_TOOLS_FOR_ROUTING=${config.OPENROUTER_MAX_TOOLS_FOR_ROUTING}: openrouter`);
    }
    targets.push({ provider: fallback.provider });
    if (targets.length === 1) notes.push(`cloud: ${fallback.provider}`);
    return { targets, rule: "hybrid", reason: `hybrid: ${notes.join(", ")}` };
  }

  function decide(request: MessagesRequest, bodyBytes: number | undefined): Decision {
    const rules = file?.rules;
    if (rules?.longContext) {
      const bytes = bodyBytes ?? Buffer.byteLength(JSON.stringify(request));
      const tokens = countIfNear(request, bytes, rules.longContextThreshold);
      if (tokens !== undefined && tokens > rules.longContextThreshold) {
        return {
          targets: [rules.longContext],
          rule: "long_context",
          reason: `rule longContext: ~${tokens} input tokens > ${rules.longContextThreshold}`,
        };
      }
    }
    if (rules?.background && /haiku/i.test(request.model)) {
      return { targets: [rules.background], rule: "background", reason: `rule background: model ${request.model}` };
    }
    if (rules?.think && wantsThinking(request)) {
      return { targets: [rules.think], rule: "think", reason: `rule think: thinking ${request.thinking?.type}` };
    }
    if (rules?.default) return { targets: [rules.default], rule: "default", reason: "rule default" };
    if (config.PREFER_OLLAMA) return hybrid(request);
    return { targets: [{ provider: config.MODEL_PROVIDER }], rule: "static", reason: `static: MODEL_PROVIDER=${config.MODEL_PROVIDER}` };
  }

  const primary = providerFor(config.MODEL_PROVIDER);
  // Every provider some request can reach: for /v1/models, `lynkr doctor` and the start-up log.
  const reachable = [
    ...(config.PREFER_OLLAMA ? ["ollama", ...(openRouterReady ? ["openrouter"] : []), fallback.provider] : []),
    ...[file?.rules.default, file?.rules.background, file?.rules.think, file?.rules.longContext].flatMap((t) => (t ? [t.provider] : [])),
    ...fallbackNames,
    ...(file?.instances.keys() ?? []),
  ];
  const providers = new Set<Provider>([primary, ...reachable.map(providerFor)]);

  const router: Router = {
    primary,
    providers: [...providers],
    events,
    settings,
    breakerFor: (name, credential) => breakers.get(name, credential),
    retryBudgetFor,
    circuits: () => breakers.list([...providers].map(({ name }) => name)),
    async prepare(request, bodyBytes) {
      const rules = file?.rules;
      if (rules?.longContext) await countIfNearSliced(request, bodyBytes ?? Buffer.byteLength(JSON.stringify(request)), rules.longContextThreshold);
    },
    route(request, bodyBytes) {
      const decision = decide(request, bodyBytes);
      const chain: Target[] = [];
      const seen = new Set<string>();
      const fallbacks: TargetRef[] = fallbackNames.map((provider) => ({ provider }));
      for (const ref of [...decision.targets, ...fallbacks]) {
        if (seen.has(ref.provider)) continue;
        seen.add(ref.provider);
        chain.push({ provider: providerFor(ref.provider), ...(ref.model ? { model: ref.model } : {}) });
      }
      return { chain, rule: decision.rule, reason: decision.reason };
    },
    call: (request, ctx, route) => callRoute(router, route ?? router.route(request, ctx.bodyBytes), request, ctx),
  };
  return router;
}
