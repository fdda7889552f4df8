import { defineCommand } from "citty";
import { ConfigError, loadConfig } from "../../config/load.ts";
import { configureLogger } from "../../observability/logger.ts";
import { startGateway } from "../../server/serve.ts";

export const startCommand = defineCommand({
  meta: { name: "start", description: "Serve Anthropic's Messages API on top of the configured provider" },
  args: {
    port: { type: "string", description: "Port to listen on (PORT, default 8080)" },
    host: { type: "string", description: "Address to bind (HOST, default 127.0.0.1)" },
    "env-file": { type: "string", description: "Read configuration from this .env file (default: ./.env if present)" },
  },
  async run({ args }) {
    let config;
    try {
      config = loadConfig({
        env: process.env,
        envFile: args["env-file"],
        overrides: { PORT: args.port, HOST: args.host },
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`lynkr: ${error.message}\n`);
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
    const provider = running.gateway.router.primary;
    log.info(`lynkr listening on ${running.url}`, {
      url: running.url,
      provider: provider.name,
      model: provider.model ?? "(the client's)",
      upstream: provider.endpoint,
      database: running.gateway.dbPath,
    });
    log.info(`provider ${provider.name} → ${provider.endpoint}, model ${provider.model ?? "as requested by the client"}`);
    // Hybrid routing, fallbacks and named providers: say which other upstreams requests can reach.
    for (const other of running.gateway.router.providers.filter((p) => p !== provider)) {
      log.info(`also routes to ${other.name} → ${other.endpoint}, model ${other.model ?? "as requested by the client"}`);
    }
    log.info(`database ${running.gateway.dbPath}`);
    log.info(`use it from Claude Code: export ANTHROPIC_BASE_URL=${running.url}`);

    const stop = async (signal: string) => {
      log.info(`${signal} received: finishing in-flight requests`);
      const { drained } = await running.shutdown();
      log.info(drained ? "stopped cleanly" : "stopped after the shutdown timeout");
      process.exit(0);
    };
    process.once("SIGINT", () => void stop("SIGINT"));
    process.once("SIGTERM", () => void stop("SIGTERM"));
  },
});
