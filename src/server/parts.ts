import type { ServerToolServices } from "../agent/services.ts";
import type { Config } from "../config/schema.ts";
import type { Upstream } from "../config/self-loop.ts";
import type { MemoryService } from "../memory/service.ts";
import type { MemoryMonitor } from "../observability/memory.ts";
import type { GatewayMetrics } from "../observability/metrics/gateway-metrics.ts";
import type { Redactor } from "../observability/redact.ts";
import type { Pipeline } from "../pipeline/run-turn.ts";
import type { Router } from "../routing/router.ts";
import type { SharedState } from "../shared-state/index.ts";
import type { SessionReader } from "../store/session-report.ts";
import type { RateLimiter } from "../usage/rate-limiter.ts";
import type { UsageLedger } from "../store/usage.ts";
import type { Lifecycle } from "./lifecycle.ts";

/** The settings the HTTP layer uses, and only those. */
export type ServerSettings = Pick<
  Config,
  | "HOST"
  | "LYNKR_API_KEYS"
  | "LYNKR_ALLOWED_HOSTS"
  | "LYNKR_ALLOWED_ORIGINS"
  | "MAX_REQUEST_BODY_BYTES"
  | "STREAM_PING_INTERVAL_MS"
  | "LOAD_SHEDDING_ENABLED"
  | "LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD"
  | "LOAD_SHEDDING_MEMORY_THRESHOLD"
  | "LOAD_SHEDDING_HEAP_THRESHOLD"
  | "HEALTH_DEEP_CACHE_MS"
  | "MEMORY_DECAY_HALF_LIFE"
  | "BUDGET_DAILY_USD"
  | "BUDGET_KEY_DAILY_USD"
  | "BUDGET_SESSION_USD"
>;

/** What the HTTP layer is built from, at the composition root (src/app.ts). */
export interface ServerParts {
  settings: ServerSettings;
  pipeline: Pipeline;
  /** Providers (count_tokens, /v1/models) and circuits (health, metrics). */
  router: Router;
  lifecycle: Lifecycle;
  metrics: GatewayMetrics;
  memoryMonitor: MemoryMonitor;
  redactor: Redactor;
  limiter: RateLimiter;
  /** Undefined when MEMORY_ENABLED=false. */
  memory: MemoryService | undefined;
  /** Sessions and usage read back (SQLite or PostgreSQL), for the status line and the dashboard. */
  reports: SessionReader;
  /** Whether the session and usage store answers, for readiness (storage.ts's DatabaseState). */
  databaseState(): Promise<"ok" | "unreachable" | "degraded">;
  /** What replicas share (Redis) or not; for readiness. */
  shared: SharedState | undefined;
  /** Today's spend, for the dashboard. */
  usage: UsageLedger;
  /** A hash of the configuration, so a client can tell this lynkr from one configured otherwise. */
  fingerprint: string;
  /** MCP server status for readiness. */
  serverTools: ServerToolServices;
  /** Each provider with the settings it was built from, for deep readiness probes. */
  upstreams(): Upstream[];
}
