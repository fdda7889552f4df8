import type { Config } from "../config/schema.ts";
import type { Registry } from "../observability/metrics/registry.ts";
import type { BudgetLedger, CircuitBus, ConversationStore, RateBuckets, SharedStateStatus } from "./ports.ts";
import { RedisBuckets } from "./redis-buckets.ts";
import { RedisCircuitBus } from "./redis-circuits.ts";
import { RedisConversations } from "./redis-conversations.ts";
import { RedisLedger } from "./redis-ledger.ts";
import { RedisLink } from "./redis-link.ts";

// The state replicas share, chosen once at start-up: with LYNKR_REDIS_URL, rate-limit buckets,
// budget holds and spend, provider circuits, per-conversation state (and the prompt cache's hot
// entries, src/cache/redis-entries.ts) live in Redis; without it (undefined backends)
// the limiter, budgets and breakers keep their in-process defaults.

export interface SharedState {
  buckets: RateBuckets | undefined;
  ledger: BudgetLedger | undefined;
  circuits: CircuitBus | undefined;
  /** The replica's connection to Redis, for what else keeps its shared state there (the prompt cache's hot entries). */
  link: RedisLink | undefined;
  /** Per-conversation state (sticky tool order, llama.cpp slots); undefined: each replica keeps its own. */
  conversations: ConversationStore | undefined;
  status(): SharedStateStatus;
  /** Exports lynkr_shared_state_up (with Redis only). */
  exportMetrics(registry: Registry): void;
  stop(): void;
}

export function createSharedState(config: Pick<Config, "LYNKR_REDIS_URL">): SharedState {
  if (config.LYNKR_REDIS_URL === undefined) {
    return { buckets: undefined, ledger: undefined, circuits: undefined, link: undefined, conversations: undefined, status: () => ({ backend: "process", up: true }), exportMetrics() {}, stop() {} };
  }
  const link = new RedisLink(config.LYNKR_REDIS_URL);
  const shared: SharedState = {
    buckets: new RedisBuckets(link),
    ledger: new RedisLedger(link),
    circuits: new RedisCircuitBus(link),
    link,
    conversations: new RedisConversations(link),
    status: () => ({ backend: "redis", up: link.up }),
    exportMetrics(registry) {
      const gauge = registry.gauge("lynkr_shared_state_up", "1 while the state shared by replicas (Redis) answers, 0 while this replica serves with its own.");
      gauge.set({}, link.up ? 1 : 0);
      link.whenUp(() => gauge.set({}, 1));
      link.whenDown(() => gauge.set({}, 0));
    },
    stop: () => link.stop(),
  };
  link.start();
  return shared;
}
