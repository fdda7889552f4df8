import { ConfigError } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { configFingerprint } from "../config/fingerprint.ts";
import { selfLoop } from "../config/self-loop.ts";
import { Lifecycle, type Gateway } from "../gateway.ts";
import { createMemory } from "../memory/service.ts";
import { logger, redactLogsWith } from "../observability/logger.ts";
import { MemoryMetrics } from "../observability/metrics/memory-metrics.ts";
import { warmTokenizer } from "../optimize/tokens.ts";
import { createOperations } from "../operations.ts";
import { loadRoutingFile, upstreamsOf, type RoutingFile } from "../routing/config-file.ts";
import { createRouter, type Router } from "../routing/router.ts";
import { databasePath, openDatabase } from "../store/db.ts";
import { startRetention } from "../store/retention.ts";
import { SessionStore } from "../store/sessions.ts";
import { createApp } from "./app.ts";
import { createServerToolServices } from "../agent/services.ts";
import { createSharedState, type SharedState } from "../shared-state/index.ts";

export interface RunningGateway {
  url: string;
  port: number;
  gateway: Gateway;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the database. */
  shutdown(): Promise<{ drained: boolean }>;
}

/**
 * Reads the routing file (once: rules for the router, prices for operations, providers for
 * deep readiness) and builds the router. Throws a ConfigError for any provider requests can
 * reach whose address is lynkr's own: every request would call itself.
 */
export function loadRouting(config: Config, shared?: SharedState): { file: RoutingFile | undefined; router: Router } {
  const file = loadRoutingFile(config);
  const router = createRouter(config, { file: file ?? null, ...(shared?.circuits ? { circuits: shared.circuits } : {}) });
  const loops = upstreamsOf(router.providers, config, file).flatMap((upstream) => selfLoop(upstream, config) ?? []);
  if (loops.length > 0) throw new ConfigError(loops.map((loop) => `${loop.problem}. ${loop.fix}`));
  return { file, router };
}

export function startGateway(config: Config): RunningGateway {
  const shared = createSharedState(config);
  const { file, router } = loadRouting(config, shared);
  const dbPath = databasePath(config);
  const db = openDatabase(dbPath);
  const ops = createOperations(config, db, router, file?.prices, [...(file?.instances.values() ?? [])].map((instance) => instance.config), shared);
  const serverTools = createServerToolServices(config, ops.metrics.registry);
  // Servers start in the background: one that is slow or broken must not delay or stop the gateway.
  void serverTools.mcp.start();
  const retention = startRetention(db, config.SESSION_RETENTION_DAYS);
  const gateway: Gateway = {
    config,
    fingerprint: configFingerprint(config, file),
    db,
    dbPath,
    sessions: new SessionStore(db),
    router,
    routingFile: file,
    lifecycle: new Lifecycle(),
    ops,
    memory: createMemory(config, db, new MemoryMetrics(ops.metrics.registry)),
    serverTools,
  };
  redactLogsWith(ops.redactor);
  // Where count_tokens is always answered locally (the primary has no count endpoint: in its
  // model's tokenizer) or a rule counts requests (cl100k), the tokenizer is built before the
  // first request instead of during one.
  if (!router.primary.countTokens) warmTokenizer(router.primary.model);
  if (file?.rules.longContext) warmTokenizer();
  const app = createApp(gateway);
  const server = Bun.serve({
    hostname: config.HOST,
    port: config.PORT,
    fetch: app.fetch,
    // The gateway answers oversized bodies itself (413 in Anthropic's shape); Bun's own cap is a backstop.
    maxRequestBodySize: config.MAX_REQUEST_BODY_BYTES + 1024 * 1024,
    // Bounds reading a request (a stalled body, a slowloris). A messages request lifts it once its
    // body is read (handleMessages' bodyRead): Bun counts it against a streamed answer however
    // often that writes, and a generation streams for minutes. Bun closes a socket that has not
    // sent complete headers after its own fixed ~10 s.
    idleTimeout: config.REQUEST_READ_TIMEOUT_SECONDS,
  });
  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  const url = `http://${host}:${server.port}`;

  let stopping: Promise<{ drained: boolean }> | undefined;
  return {
    url,
    port: server.port ?? config.PORT,
    gateway,
    shutdown() {
      stopping ??= (async () => {
        gateway.lifecycle.shuttingDown = true;
        const closing = server.stop(false);
        const drained = await gateway.lifecycle.drain(config.GRACEFUL_SHUTDOWN_TIMEOUT);
        if (!drained) logger.warn("shutdown timeout reached; closing remaining connections");
        await Promise.race([closing, Bun.sleep(drained ? 1000 : 0)]);
        server.stop(true);
        // Turn records are written on the next tick after each answer; let them land first.
        await new Promise((resolve) => setImmediate(resolve));
        gateway.ops.stop();
        await serverTools.mcp.stop();
        retention.stop();
        db.close(false);
        return { drained };
      })();
      return stopping;
    },
  };
}
