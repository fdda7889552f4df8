import type { MessagesRequest } from "../anthropic/schema.ts";
import type { Config } from "../config/schema.ts";
import { countIfNear, countIfNearSliced } from "../optimize/tokens.ts";
import type { CallContext, Provider } from "../providers/types.ts";
import type { CircuitBus } from "../shared-state/ports.ts";
import { BreakerRegistry, type CircuitView } from "./breaker-registry.ts";
import { callRoute, type Answer } from "./call-route.ts";
import type { BreakerSettings, CircuitBreaker } from "./circuit-breaker.ts";
import type { RoutingFile, TargetRef } from "../config/routing-file.ts";
import { RoutingEvents, type RouteRule } from "./events.ts";
import type { RouteProviders } from "./providers.ts";
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
  /** The routing file already read (its rules); undefined for none. */
  file?: RoutingFile | undefined;
  /** Where provider circuits are shared with other replicas (src/shared-state/); absent → this process only. */
  circuits?: CircuitBus;
}

/** The environment's settings the router reads: retries, breakers, fallback and the hybrid tiers. */
export type RouterSettings = Pick<
  Config,
  | "API_RETRY_MAX_RETRIES"
  | "API_RETRY_INITIAL_DELAY"
  | "API_RETRY_MAX_DELAY"
  | "RETRY_BUDGET_PERCENT"
  | "RETRY_BUDGET_MIN"
  | "CIRCUIT_BREAKER_FAILURE_THRESHOLD"
  | "CIRCUIT_BREAKER_SUCCESS_THRESHOLD"
  | "CIRCUIT_BREAKER_TIMEOUT"
  | "FALLBACK_ENABLED"
  | "PREFER_OLLAMA"
  | "OLLAMA_MAX_TOOLS_FOR_ROUTING"
  | "OPENROUTER_MAX_TOOLS_FOR_ROUTING"
  | "MODEL_PROVIDER"
>;

export function createRouter(config: RouterSettings, built: RouteProviders, options: RouterOptions = {}): Router {
  const file = options.file;
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

  const providerFor = (name: string): Provider => {
    const provider = built.byName.get(name);
    // Every reachable provider is built up front (buildRouteProviders); an unknown name here is a bug.
    if (!provider) throw new Error(`routing refers to unknown provider ${name}`);
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

  const { hybrid: { openRouter: openRouterReady, cloud } } = built;
  // Every chain ends in the same fallbacks: made once, not per request.
  const fallbacks: readonly TargetRef[] = built.fallback.map((provider) => ({ provider }));

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
    targets.push({ provider: cloud });
    if (targets.length === 1) notes.push(`cloud: ${cloud}`);
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

  const primary = built.primary;
  const providers = [...built.byName.values()];

  const router: Router = {
    primary,
    providers,
    events,
    settings,
    breakerFor: (name, credential) => breakers.get(name, credential),
    retryBudgetFor,
    circuits: () => breakers.list(providers.map(({ name }) => name)),
    async prepare(request, bodyBytes) {
      const rules = file?.rules;
      if (rules?.longContext) await countIfNearSliced(request, bodyBytes ?? Buffer.byteLength(JSON.stringify(request)), rules.longContextThreshold);
    },
    route(request, bodyBytes) {
      const decision = decide(request, bodyBytes);
      const chain: Target[] = [];
      const seen = new Set<string>();
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
