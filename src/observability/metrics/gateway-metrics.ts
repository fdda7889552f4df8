import type { RequestFacts } from "../request-facts.ts";
import type { MemorySample } from "../memory.ts";
import { percentiles, Registry, type Counter, type Gauge, type Histogram, type HistogramValue } from "./registry.ts";

// The gateway's metrics: what was asked, who answered, how fast, how many tokens at what cost,
// what the cache saved, what routing did. Labels stay few and bounded: provider, model, route,
// status (the registry folds runaway model names into `other`).

const latencyBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly startedAt = Date.now();

  private readonly httpRequests: Counter;
  private readonly requests: Counter;
  private readonly latency: Histogram;
  private readonly firstByte: Histogram;
  private readonly tokens: Counter;
  private readonly cost: Counter;
  private readonly cache: Counter;
  private readonly cacheSavedTokens: Counter;
  private readonly cacheSavedCost: Counter;
  private readonly rejected: Counter;
  private readonly cachedPromptTokens: Counter;
  private readonly optimized: Counter;
  private readonly optimizeActions: Counter;
  private readonly clearedToolResults: Counter;
  private readonly decisions: Counter;
  private readonly fallbacks: Counter;
  private readonly retries: Counter;
  private readonly retriesDenied: Counter;
  private readonly upstreamCalls: Histogram;
  private readonly panics: Counter;
  private readonly openCredentialCircuits: Gauge;
  private readonly circuitChanges: Counter;
  private readonly circuitState: Gauge;
  private readonly active: Gauge;
  private readonly rss: Gauge;
  private readonly heap: Gauge;
  private readonly start: Gauge;

  constructor() {
    const r = this.registry;
    this.httpRequests = r.counter("lynkr_http_requests_total", "HTTP requests by route pattern and status.", ["method", "path", "status"]);
    this.requests = r.counter("lynkr_requests_total", "Messages requests by provider, model, route and status.", ["provider", "model", "route", "status"]);
    this.latency = r.histogram("lynkr_request_duration_seconds", "Messages request time, arrival to the end of the answer.", ["provider", "model", "route"], latencyBounds);
    this.firstByte = r.histogram("lynkr_time_to_first_byte_seconds", "Time to the first streamed byte.", ["provider", "model"], latencyBounds);
    this.tokens = r.counter("lynkr_tokens_total", "Tokens by direction; estimated=true where the upstream reported none.", ["provider", "model", "direction", "estimated"]);
    this.cost = r.counter("lynkr_cost_usd_total", "Spend in US dollars at list prices.", ["provider", "model"]);
    this.cache = r.counter("lynkr_prompt_cache_requests_total", "Prompt cache lookups by result.", ["result"]);
    this.cacheSavedTokens = r.counter("lynkr_prompt_cache_saved_tokens_total", "Tokens not spent thanks to prompt cache hits.");
    this.cacheSavedCost = r.counter("lynkr_prompt_cache_saved_usd_total", "US dollars not spent thanks to prompt cache hits.");
    this.cachedPromptTokens = r.counter(
      "lynkr_upstream_cached_prompt_tokens_total",
      "Prompt tokens the upstream served from its own prefix cache (part of lynkr_tokens_total input).",
      ["provider", "model"],
    );
    this.optimized = r.counter("lynkr_optimize_requests_total", "Messages requests by optimization profile.", ["profile"]);
    this.optimizeActions = r.counter("lynkr_optimize_actions_total", "Optimizations applied, by piece and what was done.", ["action"]);
    this.clearedToolResults = r.counter("lynkr_optimize_cleared_tool_results_total", "Old tool results sent as a placeholder (small profile).");
    this.rejected = r.counter("lynkr_rejected_requests_total", "Requests refused before any upstream call.", ["reason"]);
    this.decisions = r.counter("lynkr_routing_decisions_total", "Routing decisions by rule.", ["rule"]);
    this.fallbacks = r.counter("lynkr_routing_fallbacks_total", "Requests handed from one provider to the next.", ["from", "to", "reason"]);
    this.retries = r.counter("lynkr_routing_retries_total", "Retries of the same provider.", ["provider", "reason"]);
    this.retriesDenied = r.counter("lynkr_routing_retries_denied_total", "Retries not made because the provider's retry budget was spent.", ["provider", "reason"]);
    this.upstreamCalls = r.histogram("lynkr_upstream_calls_per_request", "Upstream calls for one client attempt, retries and fallbacks included.", ["provider"], [0, 1, 2, 3, 4, 5, 8]);
    this.panics = r.counter("lynkr_routing_panic_total", "Requests sent to a provider with an open circuit because every provider left had one.", ["provider"]);
    this.openCredentialCircuits = r.gauge("lynkr_circuit_open_credentials", "Pass-through client credentials whose own circuit is open or half-open, by provider.", ["provider"]);
    this.circuitChanges = r.counter("lynkr_circuit_transitions_total", "Circuit breaker state changes.", ["provider", "to"]);
    this.circuitState = r.gauge("lynkr_circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.", ["provider"]);
    this.active = r.gauge("lynkr_active_requests", "Messages requests in flight.");
    this.rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
    this.heap = r.gauge("lynkr_heap_used_bytes", "JavaScript heap in use, in bytes.");
    this.start = r.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.");
    this.start.set({}, Math.floor(this.startedAt / 1000));
  }

  // What routing did; the composition root subscribes these to routing's events.
  countDecision(rule: string): void {
    this.decisions.inc({ rule });
  }

  countFallback(from: string, to: string | undefined, reason: string): void {
    this.fallbacks.inc({ from, to: to ?? "none", reason });
  }

  countRetry(provider: string, reason: string): void {
    this.retries.inc({ provider, reason });
  }

  countCircuitChange(provider: string, to: string): void {
    this.circuitChanges.inc({ provider, to });
  }

  countRetryDenied(provider: string, reason: string): void {
    this.retriesDenied.inc({ provider, reason });
  }

  countPanic(provider: string): void {
    this.panics.inc({ provider });
  }

  /** Point-in-time values, set just before a scrape. */
  refreshGauges(active: number, memory: MemorySample, circuits: { provider: string; credential?: string; state: string }[]): void {
    this.active.set({}, active);
    this.rss.set({}, memory.rssBytes);
    this.heap.set({}, memory.heapUsedBytes);
    // Credentials are unbounded: they are counted per provider, never a label of their own.
    const openCredentials = new Map<string, number>();
    for (const { provider, credential, state } of circuits) {
      if (credential === undefined) {
        this.circuitState.set({ provider }, state === "open" ? 2 : state === "half_open" ? 1 : 0);
        openCredentials.set(provider, openCredentials.get(provider) ?? 0);
      } else if (state !== "closed") {
        openCredentials.set(provider, (openCredentials.get(provider) ?? 0) + 1);
      }
    }
    for (const [provider, count] of openCredentials) this.openCredentialCircuits.set({ provider }, count);
  }

  /** One finished request; a few map lookups and additions. */
  record(facts: RequestFacts): void {
    const status = String(facts.status);
    this.httpRequests.inc({ method: facts.method, path: facts.path, status });
    if (facts.rejected) this.rejected.inc({ reason: facts.rejected });
    if (facts.cache) this.cache.inc({ result: facts.cache });
    if (facts.optimize) {
      this.optimized.inc({ profile: facts.optimize.profile });
      for (const action of facts.optimize.actions) this.optimizeActions.inc({ action: action.replace(/:.*$/, "") });
      if (facts.optimize.clearedToolResults > 0) this.clearedToolResults.inc({}, facts.optimize.clearedToolResults);
    }
    if (facts.provider === undefined) return;
    const provider = facts.provider;
    const model = facts.model ?? "";
    const route = facts.rule ?? "";
    this.requests.inc({ provider, model, route, status });
    if (facts.upstreamCalls !== undefined) this.upstreamCalls.observe({ provider }, facts.upstreamCalls);
    this.latency.observe({ provider, model, route }, facts.latencyMs / 1000);
    if (facts.firstByteMs !== undefined) this.firstByte.observe({ provider, model }, facts.firstByteMs / 1000);
    const estimated = facts.tokensEstimated ? "true" : "false";
    const inputTokens = facts.inputTokens ?? 0;
    const outputTokens = facts.outputTokens ?? 0;
    if (facts.cache === "hit") {
      this.cacheSavedTokens.inc({}, inputTokens + outputTokens);
      if (facts.savedUsd) this.cacheSavedCost.inc({}, facts.savedUsd);
      return;
    }
    if (inputTokens) this.tokens.inc({ provider, model, direction: "input", estimated }, inputTokens);
    if (facts.cacheReadTokens) this.cachedPromptTokens.inc({ provider, model }, facts.cacheReadTokens);
    if (outputTokens) this.tokens.inc({ provider, model, direction: "output", estimated }, outputTokens);
    if (facts.costUsd) this.cost.inc({ provider, model }, facts.costUsd);
  }

  /** The JSON view: totals, latency percentiles and spend, overall and per provider and model. */
  snapshot() {
    type Row = { requests: number; errors: number; input_tokens: number; output_tokens: number; cached_input_tokens: number; cost_usd: number; latency: HistogramValue[] };
    const byKey = new Map<string, Row & { provider: string; model: string }>();
    const total: Row = { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, cost_usd: 0, latency: [] };
    const rowFor = (provider: string, model: string) => {
      const key = `${provider}\u0001${model}`;
      let row = byKey.get(key);
      if (!row) {
        row = { provider, model, requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, cost_usd: 0, latency: [] };
        byKey.set(key, row);
      }
      return row;
    };
    for (const { labels, value } of this.requests.entries()) {
      const row = rowFor(labels.provider ?? "", labels.model ?? "");
      const isError = Number(labels.status) >= 400;
      for (const r of [row, total]) {
        r.requests += value.n;
        if (isError) r.errors += value.n;
      }
    }
    for (const { labels, value } of this.tokens.entries()) {
      const row = rowFor(labels.provider ?? "", labels.model ?? "");
      const field = labels.direction === "input" ? "input_tokens" : "output_tokens";
      row[field] += value.n;
      total[field] += value.n;
    }
    for (const { labels, value } of this.cachedPromptTokens.entries()) {
      rowFor(labels.provider ?? "", labels.model ?? "").cached_input_tokens += value.n;
      total.cached_input_tokens += value.n;
    }
    for (const { labels, value } of this.cost.entries()) {
      rowFor(labels.provider ?? "", labels.model ?? "").cost_usd += value.n;
      total.cost_usd += value.n;
    }
    for (const { labels, value } of this.latency.entries()) {
      rowFor(labels.provider ?? "", labels.model ?? "").latency.push(value);
      total.latency.push(value);
    }
    const view = (row: Row) => {
      const [p50, p95, p99] = percentiles(row.latency, [50, 95, 99]).map((s) => Math.round(s * 10_000) / 10);
      const { latency: _, ...counts } = row;
      // Share of the prompt tokens the upstream's own prefix cache served.
      const cacheHitRatio = row.input_tokens > 0 ? round6(row.cached_input_tokens / row.input_tokens) : 0;
      return { ...counts, cache_hit_ratio: cacheHitRatio, cost_usd: round6(row.cost_usd), latency_ms: { p50, p95, p99 } };
    };
    const countsBy = (counter: Counter, label: string) => {
      const out: Record<string, number> = {};
      for (const { labels, value } of counter.entries()) out[labels[label] ?? ""] = (out[labels[label] ?? ""] ?? 0) + value.n;
      return out;
    };
    return {
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      totals: view(total),
      by_provider_model: [...byKey.values()].map((row) => ({ provider: row.provider, model: row.model, ...view(row) })),
      routing: {
        decisions: countsBy(this.decisions, "rule"),
        fallbacks: [...this.fallbacks.entries()].map(({ labels, value }) => ({ ...labels, count: value.n })),
        retries: [...this.retries.entries()].map(({ labels, value }) => ({ ...labels, count: value.n })),
        retries_denied: [...this.retriesDenied.entries()].map(({ labels, value }) => ({ ...labels, count: value.n })),
        panics: countsBy(this.panics, "provider"),
      },
      cache: {
        ...countsBy(this.cache, "result"),
        saved_tokens: this.cacheSavedTokens.get(),
        saved_usd: round6(this.cacheSavedCost.get()),
      },
      rejected: countsBy(this.rejected, "reason"),
      optimize: {
        profiles: countsBy(this.optimized, "profile"),
        actions: countsBy(this.optimizeActions, "action"),
        cleared_tool_results: this.clearedToolResults.get(),
      },
    };
  }
}

export function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
