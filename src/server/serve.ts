import type { Config } from "../config/schema.ts";
import { Lifecycle, type Gateway } from "../gateway.ts";
import { logger } from "../observability/logger.ts";
import { createOperations } from "../operations.ts";
import { loadRoutingFile } from "../routing/config-file.ts";
import { createRouter } from "../routing/router.ts";
import { databasePath, openDatabase } from "../store/db.ts";
import { SessionStore } from "../store/sessions.ts";
import { createApp } from "./app.ts";

export interface RunningGateway {
  url: string;
  port: number;
  gateway: Gateway;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the database. */
  shutdown(): Promise<{ drained: boolean }>;
}

export function startGateway(config: Config): RunningGateway {
  const dbPath = databasePath(config);
  const db = openDatabase(dbPath);
  // Read once: routing rules for the router, price overrides for operations.
  const file = loadRoutingFile(config);
  const router = createRouter(config, { file: file ?? null });
  const gateway: Gateway = {
    config,
    db,
    dbPath,
    sessions: new SessionStore(db),
    router,
    lifecycle: new Lifecycle(),
    ops: createOperations(config, db, router, file?.prices),
  };
  const app = createApp(gateway);
  const server = Bun.serve({
    hostname: config.HOST,
    port: config.PORT,
    fetch: app.fetch,
    // The gateway answers oversized bodies itself (413 in Anthropic's shape); Bun's own cap is a backstop.
    maxRequestBodySize: config.MAX_REQUEST_BODY_BYTES + 1024 * 1024,
    // Long generations stream for minutes with pings in between; never cut them for idleness.
    idleTimeout: 0,
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
        db.close(false);
        return { drained };
      })();
      return stopping;
    },
  };
}
