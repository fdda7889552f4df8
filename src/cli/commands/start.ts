import { defineCommand } from "citty";
import { ConfigError, loadConfig, resolveEnvFile } from "../../config/load.ts";
import { configureLogger } from "../../observability/logger.ts";
import { credentialsWarning, exposureProblem } from "../../server/middleware/auth.ts";
import { startGateway } from "../../app.ts";

export const startCommand = defineCommand({
  meta: { name: "start", description: "Serve Anthropic's Messages API on top of the configured provider" },
  args: {
    port: { type: "string", description: "Port to listen on (PORT, default 8080)" },
    host: { type: "string", description: "Address to bind (HOST, default 127.0.0.1)" },
    "env-file": { type: "string", description: "Read configuration from this .env file (default: ./.env, else ~/.lynkr/.env, if present)" },
    "allow-unauthenticated": {
      type: "boolean",
      description: "Serve a non-loopback HOST without LYNKR_API_KEYS (only behind something that authenticates)",
    },
  },
  async run({ args }) {
    let config;
    const loadOptions = { env: process.env, envFile: args["env-file"], overrides: { PORT: args.port, HOST: args.host } };
    try {
      config = loadConfig(loadOptions);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`lynkr: ${error.message}\n`);
      process.exit(2);
    }
    const exposed = exposureProblem(config.HOST, config.LYNKR_API_KEYS, args["allow-unauthenticated"] === true);
    if (exposed) {
      process.stderr.write(`lynkr: refusing to start: ${exposed}\n`);
      process.exit(2);
    }
    const log = configureLogger(config.LOG_LEVEL, config.LOG_FORMAT);
    let running;
    try {
      running = startGateway(config);
    } catch (error) {
      // The routing file (LYNKR_CONFIG) is read here; its problems are configuration problems.
      if (error instanceof ConfigError) {
        process.stderr.write(`lynkr: ${error.message}\n`);
        process.exit(2);
      }
      const code = (error as { code?: string }).code;
      log.error(code === "EADDRINUSE" ? `port ${config.PORT} on ${config.HOST} is already in use` : String(error));
      process.exit(1);
    }
    // Before announcing the address: a supervisor may signal as soon as it sees it.
    const server = running;
    const stop = async (signal: string) => {
      log.info(`${signal} received: finishing in-flight requests`);
      const { drained } = await server.shutdown();
      log.info(drained ? "stopped cleanly" : "stopped after the shutdown timeout");
      process.exit(0);
    };
    process.once("SIGINT", () => void stop("SIGINT"));
    process.once("SIGTERM", () => void stop("SIGTERM"));

    const provider = running.gateway.router.primary;
    const facts = {
      url: running.url,
      provider: provider.name,
      model: provider.model ?? "(the client's)",
      upstream: provider.endpoint,
      database: running.gateway.dbPath,
    };
    // JSON logs carry these as fields for log tooling; on a terminal the next lines say the same.
    if (config.LOG_FORMAT === "json") log.info(`lynkr listening on ${running.url}`, facts);
    else log.info(`lynkr listening on ${running.url}`);
    log.info(`provider ${provider.name} → ${provider.endpoint}, model ${provider.model ?? "as requested by the client"}`);
    // Hybrid routing, fallbacks and named providers: say which other upstreams requests can reach.
    for (const other of running.gateway.router.providers.filter((p) => p !== provider)) {
      log.info(`also routes to ${other.name} → ${other.endpoint}, model ${other.model ?? "as requested by the client"}`);
    }
    log.info(`database ${running.gateway.dbPath}`);
    log.info(`configuration from ${resolveEnvFile(loadOptions) ?? "the environment only (no .env file)"}`);
    log.info(`use it from Claude Code: export ANTHROPIC_BASE_URL=${running.url}`);
    const warning = credentialsWarning(config);
    if (warning) log.warn(warning);
  },
});
