import { logger } from "../observability/logger.ts";

// What routing did, for metrics and logs: listeners count decisions, fallbacks, retries and
// circuit changes without routing knowing who listens.

export type CircuitState = "closed" | "open" | "half_open";

/** Why a provider did not answer. */
export type FailureReason =
  | "connection_refused"
  | "network_error"
  | "timeout"
  | "server_error"
  | "rate_limited"
  | "circuit_open"
  | "no_tool_support"
  /** The prompt does not fit this provider's context window (a larger one may take it). */
  | "context_too_long"
  /** HTTP 404: this provider lacks the model (e.g. not pulled into Ollama); another may have its own. */
  | "not_found"
  | "empty_stream"
  | "request_error"
  /** An exception inside lynkr (not the upstream's doing): never the provider's fault. */
  | "internal_error";

/** Which rule chose the route. */
export type RouteRule = "static" | "hybrid" | "background" | "think" | "long_context" | "default";

export interface RoutingEventMap {
  /** Once per request, when routing chose its chain. */
  decision: { requestId: string; rule: RouteRule; reason: string; chain: string[] };
  /** A provider was passed over and the request went on to `to` (undefined: nothing left). */
  fallback: { requestId: string; from: string; to: string | undefined; reason: FailureReason; status?: number };
  /** The same provider is tried again after `delayMs`. */
  retry: { requestId: string; provider: string; attempt: number; delayMs: number; reason: FailureReason; status?: number };
  /** A retry was due but the provider's retry budget had no room: the failure goes on (fallback or client). */
  retry_denied: { requestId: string; provider: string; reason: FailureReason };
  /** Every provider left had an open circuit: `provider`, open the longest, was called anyway. */
  panic: { requestId: string; provider: string };
  /** A breaker changed state; `credential` (a hash) when it is a pass-through client credential's own. */
  circuit: { provider: string; credential?: string; from: CircuitState; to: CircuitState };
  /** The provider that produced the answer's first event, after `attempts` calls in all. */
  answered: { requestId: string; provider: string; model: string | undefined; attempts: number; fellBack: boolean };
}

export type RoutingListener<K extends keyof RoutingEventMap> = (event: RoutingEventMap[K]) => void;

export class RoutingEvents {
  private readonly listeners = new Map<keyof RoutingEventMap, Set<(event: never) => void>>();

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof RoutingEventMap>(type: K, listener: RoutingListener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof RoutingEventMap>(type: K, event: RoutingEventMap[K]): void {
    const set = this.listeners.get(type) as Set<RoutingListener<K>> | undefined;
    for (const listener of set ?? []) {
      try {
        listener(event);
      } catch (error) {
        // A broken metrics listener must never fail a request.
        logger.error(`routing ${type} listener failed`, { error: String(error) });
      }
    }
  }
}
