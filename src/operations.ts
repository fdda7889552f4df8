import type { Database } from "bun:sqlite";
import { PromptCache } from "./cache/prompt-cache.ts";
import type { Config } from "./config/schema.ts";
import { MemoryMonitor } from "./observability/memory.ts";
import { GatewayMetrics } from "./observability/metrics/gateway-metrics.ts";
import { Optimizer } from "./optimize/index.ts";
import { Redactor } from "./observability/redact.ts";
import type { Router } from "./routing/router.ts";
import { RateLimiter } from "./server/rate-limiter.ts";
import type { SharedState } from "./shared-state/index.ts";
import { Budgets } from "./usage/budgets.ts";
import { defaultPrices, Prices, type PriceTable } from "./usage/prices.ts";
import { UsageStore } from "./usage/store.ts";

/** Everything that runs the gateway for a team: metrics, limits, money, cache, memory watch. */
export interface Operations {
  metrics: GatewayMetrics;
  memory: MemoryMonitor;
  redactor: Redactor;
  limiter: RateLimiter;
  usage: UsageStore;
  prices: Prices;
  budgets: Budgets;
  /** What replicas share (Redis) or not; for readiness. */
  shared: SharedState | undefined;
  /** Undefined when PROMPT_CACHE_ENABLED=false. */
  cache: PromptCache | undefined;
  /** The optimize step's settings and per-conversation state. */
  optimizer: Optimizer;
  /** Before the database closes: stops timers, writes what is pending. */
  stop(): void;
}

/** `providerSettings`: the routing file's named providers' settings, whose keys the logs must not show either. */
export function createOperations(
  config: Config,
  db: Database,
  router: Router,
  priceOverrides: PriceTable = {},
  providerSettings: Iterable<Config> = [],
  shared?: SharedState,
): Operations {
  const metrics = new GatewayMetrics();
  shared?.exportMetrics(metrics.registry);
  metrics.observeRouting(router.events);
  const memory = new MemoryMonitor();
  const usage = new UsageStore(db);
  const cache = config.PROMPT_CACHE_ENABLED ? new PromptCache(db, config.PROMPT_CACHE_TTL_MS, config.PROMPT_CACHE_MAX_ENTRIES) : undefined;
  return {
    metrics,
    memory,
    redactor: new Redactor(config, providerSettings),
    limiter: new RateLimiter(
      { requestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE, tokensPerMinute: config.RATE_LIMIT_TOKENS_PER_MINUTE },
      config.RATE_LIMIT_BY_KEY ?? new Map(),
      Date.now,
      shared?.buckets,
    ),
    usage,
    prices: new Prices({ ...defaultPrices, ...priceOverrides }),
    budgets: new Budgets(config, usage, shared?.ledger),
    shared,
    cache,
    optimizer: new Optimizer({
      profile: config.OPTIMIZE_PROFILE,
      disabled: config.OPTIMIZE_DISABLE,
      smallWindowTokens: config.OPTIMIZE_SMALL_WINDOW_TOKENS,
      clearTrigger: config.OPTIMIZE_CLEAR_TRIGGER,
      clearTarget: config.OPTIMIZE_CLEAR_TARGET,
      keepToolResults: config.OPTIMIZE_KEEP_TOOL_RESULTS,
      maxSessions: config.OPTIMIZE_MAX_SESSIONS,
    }),
    stop: () => {
      memory.stop();
      cache?.flush();
      shared?.stop();
    },
  };
}
