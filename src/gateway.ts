import type { Database } from "bun:sqlite";
import type { ServerToolServices } from "./agent/services.ts";
import type { Config } from "./config/schema.ts";
import type { MemoryService } from "./memory/service.ts";
import type { Operations } from "./operations.ts";
import type { RoutingFile } from "./routing/config-file.ts";
import type { Router } from "./routing/router.ts";
import type { SessionStore } from "./store/sessions.ts";

/** Tracks in-flight requests so shutdown can wait for them and readiness can report draining. */
export class Lifecycle {
  shuttingDown = false;
  private inflight = 0;
  private drained: (() => void) | undefined;

  get active(): number {
    return this.inflight;
  }

  begin(): void {
    this.inflight++;
  }

  end(): void {
    this.inflight--;
    if (this.inflight === 0) this.drained?.();
  }

  /** Resolves when no request is in flight, or after `timeoutMs`; true if all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      new Promise<true>((resolve) => {
        this.drained = () => resolve(true);
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }
}

/** What every request handler needs; built once at start-up. */
export interface Gateway {
  config: Config;
  /** A hash of the configuration, so a client can tell this lynkr from one configured otherwise (config/fingerprint.ts). */
  fingerprint: string;
  db: Database;
  dbPath: string;
  sessions: SessionStore;
  router: Router;
  /** The LYNKR_CONFIG file as read at start-up (the router and prices were built from it). */
  routingFile: RoutingFile | undefined;
  lifecycle: Lifecycle;
  /** Metrics, limits, usage and budgets, prompt cache (src/operations.ts). */
  ops: Operations;
  /** Long-term memory per project (src/memory/); undefined when MEMORY_ENABLED=false. */
  memory: MemoryService | undefined;
  /** MCP servers, web tools and limits of the server-tool loop (src/agent/). */
  serverTools: ServerToolServices;
}
