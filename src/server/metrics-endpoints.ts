import type { Context } from "hono";
import pkg from "../../package.json" with { type: "json" };
import { serverToolCallsMetric } from "../agent/services.ts";
import { prometheusContentType, toPrometheus } from "../observability/metrics/prometheus.ts";
import { round6 } from "../observability/metrics/gateway-metrics.ts";
import { utcDay } from "../store/usage.ts";
import type { AppEnv } from "./context.ts";
import type { ServerParts } from "./parts.ts";

const recentTurns = 20;

// GET /metrics/prometheus, /metrics/observability, /metrics/dashboard and /metrics/circuit-breakers.

export function prometheusMetrics(gw: ServerParts, c: Context<AppEnv>): Response {
  gw.metrics.refreshGauges(gw.lifecycle.active, gw.memoryMonitor.sample(), gw.router.circuits());
  return c.body(toPrometheus(gw.metrics.registry), 200, { "content-type": prometheusContentType });
}

function observability(gw: ServerParts) {
  const memory = gw.memoryMonitor.sample();
  return {
    ...gw.metrics.snapshot(),
    active_requests: gw.lifecycle.active,
    memory: { rss_bytes: memory.rssBytes, heap_used_bytes: memory.heapUsedBytes },
    circuit_breakers: gw.router.circuits(),
  };
}

export function observabilityMetrics(gw: ServerParts, c: Context<AppEnv>): Response {
  return c.json(observability(gw));
}

/**
 * The operator's MCP servers as /health/ready reports them, and every server-tool run so far
 * (web_search, web_fetch, mcp:<server>) by outcome, from the counter Prometheus scrapes.
 */
function mcpStatus(gw: Pick<ServerParts, "serverTools" | "metrics">) {
  const { mcp } = gw.serverTools;
  const calls = gw.metrics.registry.all().find((m) => m.name === serverToolCallsMetric);
  const server_tool_calls =
    calls?.type === "counter" ? [...calls.entries()].map(({ labels, value }) => ({ tool: labels.tool ?? "", outcome: labels.outcome ?? "", count: value.n })) : [];
  return { servers: mcp.status(), config_problems: mcp.problems, server_tool_calls };
}

/** What /dashboard polls: the observability view, today's spend against the budgets, the newest turns. */
export async function dashboardMetrics(gw: ServerParts, c: Context<AppEnv>): Promise<Response> {
  const config = gw.settings;
  const day = utcDay(Date.now());
  const report = gw.reports;
  const [today, cacheShare, recent] = await Promise.all([gw.usage.totals("day", "", day), report.cacheReadShare(day), report.recent(recentTurns)]);
  const primary = gw.router.primary;
  return c.json({
    ...observability(gw),
    gateway: { version: pkg.version, provider: primary.name, model: primary.model ?? null, upstream: primary.endpoint },
    spend: {
      today_usd: round6(today.cost_usd),
      today_requests: today.requests,
      budgets: {
        daily_usd: config.BUDGET_DAILY_USD ?? null,
        key_daily_usd: config.BUDGET_KEY_DAILY_USD ?? null,
        session_usd: config.BUDGET_SESSION_USD ?? null,
      },
    },
    upstream_cache_today: cacheShare,
    long_term_memory: gw.memory ? { enabled: true, memories: await gw.memory.store.count() } : { enabled: false, memories: 0 },
    mcp: mcpStatus(gw),
    recent,
  });
}

export function circuitBreakerMetrics(gw: ServerParts, c: Context<AppEnv>): Response {
  return c.json({ circuit_breakers: gw.router.circuits() });
}
