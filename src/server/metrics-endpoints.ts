import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { prometheusContentType, toPrometheus } from "../observability/metrics/prometheus.ts";
import type { AppEnv } from "./context.ts";

// GET /metrics/prometheus, /metrics/observability and /metrics/circuit-breakers.

function circuits(gw: Gateway) {
  return gw.router.providers.map((provider) => {
    const breaker = gw.router.breakerFor(provider.name);
    return { provider: provider.name, state: breaker.state, retry_in_ms: breaker.retryInMs };
  });
}

export function prometheusMetrics(gw: Gateway, c: Context<AppEnv>): Response {
  gw.ops.metrics.refreshGauges(gw.lifecycle.active, gw.ops.memory.sample(), circuits(gw));
  return c.body(toPrometheus(gw.ops.metrics.registry), 200, { "content-type": prometheusContentType });
}

export function observabilityMetrics(gw: Gateway, c: Context<AppEnv>): Response {
  const memory = gw.ops.memory.sample();
  return c.json({
    ...gw.ops.metrics.snapshot(),
    active_requests: gw.lifecycle.active,
    memory: { rss_bytes: memory.rssBytes, heap_used_bytes: memory.heapUsedBytes },
    circuit_breakers: circuits(gw),
  });
}

export function circuitBreakerMetrics(gw: Gateway, c: Context<AppEnv>): Response {
  return c.json({ circuit_breakers: circuits(gw) });
}
