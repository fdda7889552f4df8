import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { prometheusContentType, toPrometheus } from "../observability/metrics/prometheus.ts";
import type { AppEnv } from "./context.ts";

// GET /metrics/prometheus, /metrics/observability and /metrics/circuit-breakers.

export function prometheusMetrics(gw: Gateway, c: Context<AppEnv>): Response {
  gw.ops.metrics.refreshGauges(gw.lifecycle.active, gw.ops.memory.sample(), gw.router.circuits());
  return c.body(toPrometheus(gw.ops.metrics.registry), 200, { "content-type": prometheusContentType });
}

export function observabilityMetrics(gw: Gateway, c: Context<AppEnv>): Response {
  const memory = gw.ops.memory.sample();
  return c.json({
    ...gw.ops.metrics.snapshot(),
    active_requests: gw.lifecycle.active,
    memory: { rss_bytes: memory.rssBytes, heap_used_bytes: memory.heapUsedBytes },
    circuit_breakers: gw.router.circuits(),
  });
}

export function circuitBreakerMetrics(gw: Gateway, c: Context<AppEnv>): Response {
  return c.json({ circuit_breakers: gw.router.circuits() });
}
