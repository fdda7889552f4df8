import type { Context } from "hono";
import pkg from "../../package.json" with { type: "json" };
import type { Upstream } from "../config/self-loop.ts";
import { checkProvider } from "../providers/descriptors.ts";
import type { AppEnv } from "./context.ts";
import type { ServerParts } from "./parts.ts";
import { KeyRing, presentedKey } from "./middleware/auth.ts";
import { memoryPressure } from "./middleware/load-shedding.ts";

// Probes. Liveness: the process answers. Readiness: the database answers, the gateway is not
// shutting down (503 from the first moment of a drain, so balancers stop sending), memory is
// under the shedding thresholds; `?deep=true` also asks each provider (doctor's cheap calls),
// reusing the answers for HEALTH_DEEP_CACHE_MS so probes cannot hammer upstreams. With
// LYNKR_API_KEYS set, only a caller with a key sees which providers there are and their errors;
// a probe without one still gets the verdict.

interface ProviderHealth {
  name: string;
  ok: boolean;
  detail: string;
  circuit: string;
}

export class Health {
  private deep: { at: number; results: Promise<ProviderHealth[]> } | undefined;
  private targets: Upstream[] | undefined;
  private readonly keys: KeyRing | undefined;

  constructor(private readonly gw: ServerParts) {
    this.keys = gw.settings.LYNKR_API_KEYS ? new KeyRing(gw.settings.LYNKR_API_KEYS) : undefined;
  }

  live(c: Context<AppEnv>): Response {
    return c.json({ status: "ok" });
  }

  async ready(c: Context<AppEnv>): Promise<Response> {
    const { gw } = this;
    const memory = gw.memoryMonitor.current;
    const pressure = memoryPressure(gw.settings, memory);
    const database = await gw.databaseState();
    const checks: Record<string, string> = {
      database: database === "degraded" ? "ok" : database,
      shutdown: gw.lifecycle.shuttingDown ? "draining" : "ok",
      memory: pressure ? `high: ${pressure}` : "ok",
    };
    let ready = Object.values(checks).every((v) => v === "ok");
    // Without Redis a replica still serves, with its own limits, holds and circuits: degraded, not down.
    const shared = gw.shared?.status();
    if (shared?.backend === "redis") checks.shared_state = shared.up ? "ok" : "degraded: redis unreachable, serving with this replica's own state";
    // Without PostgreSQL a replica still answers; turn records and usage rows wait for it in order.
    if (database === "degraded") checks.database = "degraded: postgres unreachable, records queued until it is back";
    let providers: ProviderHealth[] | undefined;
    if (c.req.query("deep") === "true" && !gw.lifecycle.shuttingDown) {
      const all = await this.providers();
      // Fallback can serve while one provider is down; with none reachable nothing can.
      const anyOk = all.some((p) => p.ok);
      checks.providers = anyOk ? "ok" : "none reachable";
      ready &&= anyOk;
      if (!this.keys || presentedKey(this.keys, c.req.raw.headers)) providers = all;
    }
    return c.json(
      {
        // Who answers: wrap, start and doctor tell this lynkr from another one configured otherwise.
        service: "lynkr",
        version: pkg.version,
        config: gw.fingerprint,
        // Whether /v1 and /metrics want a client key: the dashboard asks for one before polling.
        auth: gw.settings.LYNKR_API_KEYS ? "keys" : "none",
        status: ready ? (checks.shared_state?.startsWith("degraded") || database === "degraded" ? "degraded" : "ready") : "not_ready",
        checks,
        active_requests: gw.lifecycle.active,
        memory: { rss_bytes: memory.rssBytes, heap_used_bytes: memory.heapUsedBytes },
        ...(providers ? { providers } : {}),
        // MCP servers are reported, not required: the gateway serves without the one that is down.
        ...(gw.serverTools.mcp.connections.length > 0 || gw.serverTools.mcp.problems.length > 0 ? { mcp: this.mcp() } : {}),
      },
      ready ? 200 : 503,
    );
  }

  private mcp() {
    const { mcp } = this.gw.serverTools;
    return { servers: mcp.status(), ...(mcp.problems.length > 0 ? { config_problems: mcp.problems } : {}) };
  }

  private providers(): Promise<ProviderHealth[]> {
    const now = Date.now();
    if (this.deep && now - this.deep.at < this.gw.settings.HEALTH_DEEP_CACHE_MS) return this.deep.results;
    const results = this.check();
    this.deep = { at: now, results };
    return results;
  }

  private async check(): Promise<ProviderHealth[]> {
    const { gw } = this;
    // The providers the running router was built with, from the file as read at start-up.
    this.targets ??= gw.upstreams();
    return Promise.all(
      this.targets.map(async (target) => {
        const results = await checkProvider(target, 5_000);
        const failed = results.find((r) => !r.ok);
        return {
          name: target.name,
          ok: failed === undefined,
          detail: gw.redactor.redact((failed ?? results[0])?.detail ?? ""),
          circuit: gw.router.breakerFor(target.name).state,
        };
      }),
    );
  }
}
