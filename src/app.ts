import type { Database } from "bun:sqlite";
import type { SQL } from "bun";
import { createServerToolServices, type ServerToolServices } from "./agent/services.ts";
import { PostgresEntries } from "./cache/postgres-entries.ts";
import { PromptCache } from "./cache/prompt-cache.ts";
import { RedisEntries } from "./cache/redis-entries.ts";
import { SqliteEntries } from "./cache/sqlite-entries.ts";
import { configFingerprint } from "./config/fingerprint.ts";
import { ConfigError } from "./config/load.ts";
import { loadRoutingFile, type RoutingFile } from "./config/routing-file.ts";
import type { Config } from "./config/schema.ts";
import { selfLoop } from "./config/self-loop.ts";
import { createMemory } from "./memory/service.ts";
import { PostgresMemoryStore } from "./memory/postgres-store.ts";
import { SqliteMemoryStore } from "./memory/sqlite-store.ts";
import type { MemoryService } from "./memory/service.ts";
import { logger, redactLogsWith } from "./observability/logger.ts";
import { MemoryMonitor } from "./observability/memory.ts";
import { GatewayMetrics } from "./observability/metrics/gateway-metrics.ts";
import { MemoryMetrics } from "./observability/metrics/memory-metrics.ts";
import { Redactor } from "./observability/redact.ts";
import { Optimizer } from "./optimize/index.ts";
import { warmTokenizer } from "./optimize/tokens.ts";
import { Outcomes } from "./pipeline/outcome.ts";
import { createPipeline, type Pipeline } from "./pipeline/run-turn.ts";
import { buildRouteProviders } from "./routing/providers.ts";
import { createRouter, type Router } from "./routing/router.ts";
import { upstreamsOf } from "./routing/upstreams.ts";
import { createApp, type HttpApp } from "./server/app.ts";
import { Lifecycle } from "./server/lifecycle.ts";
import { listen } from "./server/listen.ts";
import { createSharedState, type SharedState } from "./shared-state/index.ts";
import { openSqliteStorage, openStorage, type Storage } from "./store/storage.ts";
import { calibrateTokens, closeFacts, learnFrom, recordSession, storeAnswer } from "./turn-subscribers.ts";
import { warmRequestSchemas } from "./server/warm-up.ts";
import { Budgets } from "./usage/budgets.ts";
import { defaultPrices, Prices } from "./usage/prices.ts";
import { RateLimiter } from "./usage/rate-limiter.ts";

// The composition root: the one place that knows every module. It builds them in layer order
// (config → store → providers and router → pipeline → server), hands each only what it uses,
// and wires who hears what: metrics hear routing's events, and every module that keeps
// something of a turn subscribes to the pipeline's turn outcomes.

/**
 * Reads the routing file (once: rules for the router, prices for usage, providers for deep
 * readiness), builds the providers requests can reach and the router that picks among them. Throws a ConfigError for any provider requests can reach
 * whose address is lynkr's own: every request would call itself.
 */
export function loadRouting(config: Config, shared?: SharedState): { file: RoutingFile | undefined; router: Router } {
  const file = loadRoutingFile(config);
  const providers = buildRouteProviders(config, file);
  const router = createRouter(config, providers, { file, ...(shared?.circuits ? { circuits: shared.circuits } : {}) });
  const loops = upstreamsOf(router.providers, config, file).flatMap((upstream) => selfLoop(upstream, config) ?? []);
  if (loops.length > 0) throw new ConfigError(loops.map((loop) => `${loop.problem}. ${loop.fix}`));
  return { file, router };
}

/** The built gateway: what start-up reports and tests look into. */
export interface Gateway {
  /** Sessions, turns and usage (SQLite, or PostgreSQL with LYNKR_DATABASE_URL). */
  storage: Storage;
  /** The SQLite database: everything without PostgreSQL (sessions, usage, memory, the prompt cache). */
  db: Database;
  dbPath: string;
  /** PostgreSQL (every area migrated) when LYNKR_DATABASE_URL is set. */
  postgres: SQL | undefined;
  router: Router;
  pipeline: Pipeline;
  lifecycle: Lifecycle;
  /** Undefined when MEMORY_ENABLED=false. */
  memory: MemoryService | undefined;
  /** MCP servers, web tools and limits of the server-tool loop (src/agent/). */
  serverTools: ServerToolServices;
  /** Undefined when PROMPT_CACHE_ENABLED=false. */
  promptCache: PromptCache | undefined;
  /** The LYNKR_CONFIG file as read at start-up (start-up names its rules). */
  routingFile: RoutingFile | undefined;
  http: HttpApp;
  /** Starts building, in the background, what requests will need (the tokenizer); once is enough. */
  warmUp(): void;
  /** Before the database closes: stops timers and MCP servers, writes what is pending. */
  stop(): Promise<void>;
}

/** The storage a gateway built without one gets: SQLite, which opens without waiting. */
function sqliteStorage(config: Config): Storage {
  if (config.LYNKR_DATABASE_URL !== undefined) {
    throw new Error("LYNKR_DATABASE_URL is set: open PostgreSQL first (launchGateway, or buildGateway(config, await openStorage(config)))");
  }
  return openSqliteStorage(config);
}

/** How long shutdown waits for PostgreSQL to take what is queued, when it is away. */
const flushWithinMs = 10_000;

export function buildGateway(config: Config, given?: Storage): Gateway {
  // What replicas share (LYNKR_REDIS_URL): rate-limit buckets, budget holds, circuit changes,
  // per-conversation state and the prompt cache's hot entries.
  const shared = createSharedState(config);
  const { file, router } = loadRouting(config, shared);
  const storage = given ?? sqliteStorage(config);
  const { db, dbPath, usage } = storage;
  const retention = storage.retain(config.SESSION_RETENTION_DAYS);

  const metrics = new GatewayMetrics();
  shared?.exportMetrics(metrics.registry);
  router.events.on("decision", (e) => metrics.countDecision(e.rule));
  router.events.on("fallback", (e) => metrics.countFallback(e.from, e.to, e.reason));
  router.events.on("retry", (e) => metrics.countRetry(e.provider, e.reason));
  router.events.on("retry_denied", (e) => metrics.countRetryDenied(e.provider, e.reason));
  router.events.on("panic", (e) => metrics.countPanic(e.provider));
  router.events.on("circuit", (e) => metrics.countCircuitChange(e.provider, e.to));

  const budgets = new Budgets(config, usage, shared?.ledger);
  const limiter = new RateLimiter(
    { requestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MINUTE, tokensPerMinute: config.RATE_LIMIT_TOKENS_PER_MINUTE },
    config.RATE_LIMIT_BY_KEY ?? new Map(),
    Date.now,
    shared?.buckets,
  );
  // The prompt cache's tiers: memory, then Redis's hot entries shared by replicas, then the
  // database (PostgreSQL's shared by replicas, else this process's SQLite).
  const cache = config.PROMPT_CACHE_ENABLED
    ? new PromptCache(
        {
          durable: storage.postgres ? new PostgresEntries(storage.postgres) : new SqliteEntries(db, config.PROMPT_CACHE_MAX_ENTRIES),
          ...(shared.link ? { hot: new RedisEntries(shared.link, config.PROMPT_CACHE_MAX_ENTRIES) } : {}),
        },
        config.PROMPT_CACHE_TTL_MS,
        config.PROMPT_CACHE_MAX_ENTRIES,
      )
    : undefined;
  // Memory lives where the records do: on PostgreSQL every replica reads a session's block there.
  const memoryStore = storage.postgres ? new PostgresMemoryStore(storage.postgres) : new SqliteMemoryStore(db);
  const memory = createMemory(config, memoryStore, new MemoryMetrics(metrics.registry));
  const memoryMonitor = new MemoryMonitor();
  // The routing file's named providers have keys of their own, which the logs must not show either.
  const redactor = new Redactor(config, [...(file?.instances.values() ?? [])].map((instance) => instance.config));
  redactLogsWith(redactor);
  const serverTools = createServerToolServices(config, metrics.registry);
  // Servers start in the background: one that is slow or broken must not delay or stop the gateway.
  void serverTools.mcp.start();
  // Where count_tokens is always answered locally (the primary has no count endpoint: in its
  // model's tokenizer) or a rule counts requests (cl100k), the tokenizer is built in the
  // background, in slices, from the first request on: not during a request that counts, and not
  // held by a gateway nobody uses (o200k's table is ~7 MB).
  let warmed = false;
  const warmUp = () => {
    if (warmed) return;
    warmed = true;
    if (!router.primary.countTokens) void warmTokenizer(router.primary.model);
    if (file?.rules.longContext) void warmTokenizer();
  };

  const prices = new Prices({ ...defaultPrices, ...file?.prices });
  const outcomes = new Outcomes();
  // PostgreSQL: replicas share the session record, so a turn is kept before its response ends.
  outcomes.subscribe("sessions", recordSession(storage.sessions), { holdsEnd: storage.kind === "postgres" });
  if (cache) outcomes.subscribe("cache", storeAnswer(cache));
  outcomes.subscribe("memory", learnFrom(memory));
  outcomes.subscribe("token calibration", calibrateTokens());
  // Last: closing the facts writes the request log line and the metrics, from what came before.
  outcomes.subscribe("request log", closeFacts());

  const pipeline = createPipeline({
    router,
    outcomes,
    budgets,
    limiter,
    usage,
    prices,
    memory,
    cache,
    cacheSettings: { perClient: config.LYNKR_API_KEYS !== undefined, provider: config.MODEL_PROVIDER, model: config.MODEL_DEFAULT ?? "" },
    serverTools,
    optimizer: new Optimizer({
      profile: config.OPTIMIZE_PROFILE,
      disabled: config.OPTIMIZE_DISABLE,
      smallWindowTokens: config.OPTIMIZE_SMALL_WINDOW_TOKENS,
      clearTrigger: config.OPTIMIZE_CLEAR_TRIGGER,
      clearTarget: config.OPTIMIZE_CLEAR_TARGET,
      keepToolResults: config.OPTIMIZE_KEEP_TOOL_RESULTS,
      maxSessions: config.OPTIMIZE_MAX_SESSIONS,
    }),
    ...(shared.conversations ? { conversations: shared.conversations } : {}),
  });
  const lifecycle = new Lifecycle();
  const http = createApp({
    settings: config,
    pipeline,
    router,
    lifecycle,
    metrics,
    memoryMonitor,
    redactor,
    limiter,
    memory,
    serverTools,
    reports: storage.reports,
    databaseState: () => storage.state(),
    shared,
    usage,
    fingerprint: configFingerprint(config, file),
    upstreams: () => upstreamsOf(router.providers, config, file),
  });
  return {
    storage,
    db,
    dbPath,
    postgres: storage.postgres,
    router,
    pipeline,
    lifecycle,
    memory,
    serverTools,
    promptCache: cache,
    routingFile: file,
    http,
    warmUp,
    async stop() {
      await retention.stop();
      memoryMonitor.stop();
      await cache?.flush();
      await storage.flush(flushWithinMs);
      await serverTools.mcp.stop();
      shared?.stop();
    },
  };
}

export interface RunningGateway {
  url: string;
  port: number;
  gateway: Gateway;
  /** Stops accepting, lets in-flight requests finish (bounded), writes what is pending, closes the database. */
  shutdown(): Promise<{ drained: boolean }>;
}

/** Opens the storage LYNKR_DATABASE_URL asks for (PostgreSQL: connected and migrated), then starts. */
export async function launchGateway(config: Config): Promise<RunningGateway> {
  const storage = await openStorage(config);
  try {
    return startGateway(config, storage);
  } catch (error) {
    await storage.close();
    throw error;
  }
}

export function startGateway(config: Config, storage?: Storage): RunningGateway {
  const gateway = buildGateway(config, storage);
  const server = listen((request, bun) => {
    gateway.warmUp();
    return gateway.http.fetch(request, bun);
  }, config);
  // On the first turn of the loop after listening: before the first request, which is still connecting.
  setImmediate(warmRequestSchemas);
  let stopping: Promise<{ drained: boolean }> | undefined;
  return {
    url: server.url,
    port: server.port,
    gateway,
    shutdown() {
      stopping ??= (async () => {
        gateway.lifecycle.shuttingDown = true;
        const closing = server.stop(false);
        const drained = await gateway.lifecycle.drain(config.GRACEFUL_SHUTDOWN_TIMEOUT);
        if (!drained) logger.warn("shutdown timeout reached; closing remaining connections");
        await Promise.race([closing, Bun.sleep(drained ? 1000 : 0)]);
        await server.stop(true);
        // Turn outcomes are handed out on the next tick after each answer; let them land first.
        await new Promise((resolve) => setImmediate(resolve));
        await gateway.stop();
        await gateway.storage.close();
        return { drained };
      })();
      return stopping;
    },
  };
}
