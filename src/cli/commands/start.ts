import { defineCommand } from "citty";
import { ConfigError, describeEnvFiles, envFiles, loadConfig } from "../../config/load.ts";
import { configFingerprint } from "../../config/fingerprint.ts";
import type { Config } from "../../config/schema.ts";
import { listenUrl } from "../../doctor/checks.ts";
import { identify } from "../../doctor/identity.ts";
import { loadRoutingFile, type RoutingFile, type TargetRef } from "../../config/routing-file.ts";
import { configureLogger } from "../../observability/logger.ts";
import { credentialsWarning, exposureProblem } from "../../server/middleware/auth.ts";
import { launchGateway } from "../../app.ts";

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
      running = await launchGateway(config);
    } catch (error) {
      // The routing file (LYNKR_CONFIG) is read here; its problems are configuration problems.
      if (error instanceof ConfigError) {
        process.stderr.write(`lynkr: ${error.message}\n`);
        process.exit(2);
      }
      const code = (error as { code?: string }).code;
      log.error(code === "EADDRINUSE" ? await portHolder(config) : String(error));
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
      database: running.gateway.storage.where,
    };
    // JSON logs carry these as fields for log tooling; on a terminal the next lines say the same.
    if (config.LOG_FORMAT === "json") log.info(`lynkr listening on ${running.url}`, facts);
    else log.info(`lynkr listening on ${running.url}`);
    log.info(`provider ${provider.name} → ${provider.requestUrl ?? provider.endpoint}, model ${provider.model ?? "as requested by the client"}`);
    // Hybrid routing, fallbacks and named providers: say which other upstreams requests can reach.
    for (const other of running.gateway.router.providers.filter((p) => p !== provider)) {
      log.info(`also routes to ${other.name} → ${other.requestUrl ?? other.endpoint}, model ${other.model ?? "as requested by the client"}`);
    }
    const file = running.gateway.routingFile;
    if (file) log.info(`routing file ${file.path}: ${describeRules(file)}`);
    const { storage } = running.gateway;
    // PostgreSQL by its host only: the URL may carry a password.
    log.info(storage.kind === "postgres" ? `records in ${storage.where} (sessions, turns, usage, memory, prompt cache)` : `database ${storage.dbPath}`);
    log.info(`configuration from ${describeEnvFiles(envFiles(loadOptions))}`);
    // Claude Code says "Not logged in" without some key, even when lynkr holds the provider's.
    const needsKey = config.LYNKR_API_KEYS ? "ANTHROPIC_API_KEY=<one of LYNKR_API_KEYS>" : config.MODEL_PROVIDER === "anthropic" ? "" : "ANTHROPIC_API_KEY=any-value";
    log.info(`use it from Claude Code: lynkr wrap claude, or export ANTHROPIC_BASE_URL=${running.url}${needsKey ? ` ${needsKey}` : ""}`);
    const warning = credentialsWarning(config);
    if (warning) log.warn(warning);
  },
});

const target = (t: TargetRef | undefined) => (t ? (t.model ? `${t.provider},${t.model}` : t.provider) : undefined);

/** The routing file's rules in one line: which requests go where. */
function describeRules(file: RoutingFile): string {
  const { rules } = file;
  const parts = [
    rules.default && `default → ${target(rules.default)}`,
    rules.background && `background (haiku) → ${target(rules.background)}`,
    rules.think && `think → ${target(rules.think)}`,
    rules.longContext && `longContext (> ${rules.longContextThreshold} tokens) → ${target(rules.longContext)}`,
    file.fallback && `fallback ${file.fallback.join(" → ")}`,
    file.instances.size > 0 && `named providers ${[...file.instances.keys()].join(", ")}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join("; ") : "no rules";
}

/** Who holds the port: this configuration's lynkr already, another lynkr, or another program. */
async function portHolder(config: Config): Promise<string> {
  const where = `port ${config.PORT} on ${config.HOST}`;
  const found = await identify(listenUrl(config), 3_000);
  if (found.kind !== "lynkr") return `${where} is already in use by another program: stop it, or set PORT to a free port`;
  if (found.fingerprint === configFingerprint(config, loadRoutingFile(config))) {
    return `${where} is already in use by a lynkr ${found.version} with this same configuration: it is running already (lynkr wrap claude reuses it)`;
  }
  return `${where} is held by another lynkr ${found.version} with a different configuration: stop that one, or set PORT to a free port`;
}
