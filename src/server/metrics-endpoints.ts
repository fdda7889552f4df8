import type { Context } from "hono";
import { prometheusContentType, toPrometheus } from "../observability/metrics/prometheus.ts";
import type { AppEnv } from "./context.ts";
import type { ServerParts } from "./parts.ts";

// GET /metrics/prometheus, /metrics/observability and /metrics/circuit-breakers.

export function prometheusMetrics(parts: ServerParts, c: Context<AppEnv>): Response {
  parts.metrics.refreshGauges(parts.lifecycle.active, parts.memoryMonitor.sample(), parts.router.circuits());
  return c.body(toPrometheus(parts.metrics.registry), 200, { "content-type": prometheusContentType });
}

export function observabilityMetrics(parts: ServerParts, c: Context<AppEnv>): Response {
  const memory = parts.memoryMonitor.sample();
  return c.json({
    ...parts.metrics.snapshot(),
    active_requests: parts.lifecycle.active,
    memory: { rss_bytes: memory.rssBytes, heap_used_bytes: memory.heapUsedBytes },
    circuit_breakers: parts.router.circuits(),
  });
}

export function circuitBreakerMetrics(parts: ServerParts, c: Context<AppEnv>): Response {
  return c.json({ circuit_breakers: parts.router.circuits() });
}
