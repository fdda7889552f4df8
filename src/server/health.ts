import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { checkProvider, type ProviderUnderTest } from "../doctor/providers.ts";
import { providersUnderTest } from "../doctor/run.ts";
import { loadRoutingFile } from "../routing/config-file.ts";
import { isDatabaseReachable } from "../store/db.ts";
import type { AppEnv } from "./context.ts";

// Probes. Liveness: the process answers. Readiness: the database answers, the gateway is not
// shutting down (503 from the first moment of a drain, so balancers stop sending), memory is
// under the shedding thresholds; `?deep=true` also asks each provider (doctor's cheap calls),
// reusing the answers for HEALTH_DEEP_CACHE_MS so probes cannot hammer upstreams.

interface ProviderHealth {
  name: string;
  ok: boolean;
  detail: string;
  circuit: string;
}

export class Health {
  private deep: { at: number; results: Promise<ProviderHealth[]> } | undefined;
  private targets: ProviderUnderTest[] | undefined;

  constructor(private readonly gw: Gateway) {}

  live(c: Context<AppEnv>): Response {
    return c.json({ status: "ok" });
  }

  async ready(c: Context<AppEnv>): Promise<Response> {
    const { gw } = this;
    const memory = gw.ops.memory.current;
    const memoryHigh =
      memory.rssFraction >= gw.config.LOAD_SHEDDING_MEMORY_THRESHOLD || memory.heapFraction >= gw.config.LOAD_SHEDDING_HEAP_THRESHOLD;
    const checks: Record<string, string> = {
      database: isDatabaseReachable(gw.db) ? "ok" : "unreachable",
      shutdown: gw.lifecycle.shuttingDown ? "draining" : "ok",
      memory: memoryHigh ? `high (rss ${pct(memory.rssFraction)}, heap ${pct(memory.heapFraction)})` : "ok",
    };
    let ready = Object.values(checks).every((v) => v === "ok");
    let providers: ProviderHealth[] | undefined;
    if (c.req.query("deep") === "true" && !gw.lifecycle.shuttingDown) {
      providers = await this.providers();
      // Fallback can serve while one provider is down; with none reachable nothing can.
      const anyOk = providers.some((p) => p.ok);
      checks.providers = anyOk ? "ok" : "none reachable";
      ready &&= anyOk;
    }
    return c.json(
      {
        status: ready ? "ready" : "not_ready",
        checks,
        active_requests: gw.lifecycle.active,
        memory: { rss_bytes: memory.rssBytes, heap_used_bytes: memory.heapUsedBytes },
        ...(providers ? { providers } : {}),
      },
      ready ? 200 : 503,
    );
  }

  private providers(): Promise<ProviderHealth[]> {
    const now = Date.now();
    if (this.deep && now - this.deep.at < this.gw.config.HEALTH_DEEP_CACHE_MS) return this.deep.results;
    const results = this.check();
    this.deep = { at: now, results };
    return results;
  }

  private async check(): Promise<ProviderHealth[]> {
    const { gw } = this;
    this.targets ??= providersUnderTest(gw.config, loadRoutingFile(gw.config));
    return Promise.all(
      this.targets.map(async (target) => {
        const results = await checkProvider(target, 5_000);
        const failed = results.find((r) => !r.ok);
        return {
          name: target.name,
          ok: failed === undefined,
          detail: gw.ops.redactor.redact((failed ?? results[0])?.detail ?? ""),
          circuit: gw.router.breakerFor(target.name).state,
        };
      }),
    );
  }
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
