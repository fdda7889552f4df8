import { defineCommand } from "citty";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, describeEnvFiles, envFiles, loadConfig } from "../../config/load.ts";
import { configFingerprint } from "../../config/fingerprint.ts";
import { lynkrDir } from "../../config/lynkr-dir.ts";
import type { Config } from "../../config/schema.ts";
import { listenUrl } from "../../doctor/checks.ts";
import { identify } from "../../doctor/identity.ts";
import { configureLogger } from "../../observability/logger.ts";
import { loadRoutingFile } from "../../config/routing-file.ts";
import { launchGateway, type RunningGateway } from "../../app.ts";
import { reportsOf } from "../database.ts";
import { sessionSummary } from "../wrap/summary.ts";
import { clientEnv } from "../wrap/client-env.ts";

// `lynkr wrap [--] COMMAND ARGS…` (and `lynkr code ARGS…` = `wrap claude ARGS…`): Claude Code
// through lynkr in one command. A lynkr already serving this configuration on the configured
// port is reused; otherwise one runs inside this process on a free loopback port for as long as
// the command does, logging to ~/.lynkr/logs/. The command gets the terminal, the signals and
// ANTHROPIC_BASE_URL; its exit code is lynkr's.

interface WrapOptions {
  quiet: boolean;
  envFile: string | undefined;
  command: string[];
}

const usage = "usage: lynkr wrap [--quiet] [--env-file PATH] [--] COMMAND [ARGS…]";

/** wrap's own flags come first; the command starts at the first other word (or after `--`). */
export function splitWrapArgs(raw: string[]): WrapOptions | string {
  const options: WrapOptions = { quiet: false, envFile: undefined, command: [] };
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i] as string;
    if (arg === "--") {
      options.command = raw.slice(i + 1);
      break;
    }
    if (arg === "--quiet" || arg === "-q") options.quiet = true;
    else if (arg === "--env-file") {
      const value = raw[++i];
      if (value === undefined) return "--env-file needs a path";
      options.envFile = value;
    } else if (arg.startsWith("--env-file=")) options.envFile = arg.slice("--env-file=".length);
    else if (arg.startsWith("-")) return `unknown option ${arg} (put the command after --)`;
    else {
      options.command = raw.slice(i);
      break;
    }
  }
  return options.command.length === 0 ? "no command given" : options;
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

function logFile(config: Config): { path: string; fd: number } {
  const dir = join(lynkrDir(config.HOME), "logs");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const path = join(dir, `wrap-${stamp}-${process.pid}.log`);
  return { path, fd: openSync(path, "a", 0o600) };
}

/** The gateway the command talks to: a running lynkr of this configuration, else our own. */
async function gatewayFor(config: Config, say: (line: string) => void): Promise<{ url: string; own?: RunningGateway; logFd?: number }> {
  const configured = listenUrl(config);
  const fingerprint = configFingerprint(config, loadRoutingFile(config));
  if (config.PORT !== 0) {
    const found = await identify(configured, 3_000);
    if (found.kind === "lynkr" && found.fingerprint === fingerprint && found.ready) {
      say(`lynkr: using the lynkr already running at ${configured}`);
      return { url: configured };
    }
    if (found.kind === "lynkr") {
      say(`lynkr: the lynkr at ${configured} ${found.ready ? "serves another configuration" : "is not ready"}; starting one of this configuration`);
    } else if (found.kind === "other") {
      say(`lynkr: ${configured} is held by another program (${found.detail}); starting lynkr on a free port`);
    }
  }
  const log = logFile(config);
  configureLogger(config.LOG_LEVEL, config.LOG_FORMAT, log.fd);
  const own = await launchGateway({ ...config, HOST: "127.0.0.1", PORT: 0 });
  say(`lynkr: gateway on ${own.url} → ${own.gateway.router.primary.name} (${own.gateway.router.primary.endpoint}); log ${log.path}`);
  return { url: own.url, own, logFd: log.fd };
}

async function wrap(options: WrapOptions): Promise<never> {
  const say = (line: string) => {
    if (!options.quiet) process.stderr.write(`${line}\n`);
  };
  // Handlers go in first, before anything is awaited (Bun may not install one added later in
  // time for the signal). On a terminal Ctrl-C reaches the whole foreground group, the command
  // included: lynkr only outlives it. Signals sent to lynkr alone (kill, a closing terminal)
  // are passed on; one that comes before the command runs ends lynkr as it would have.
  let child: ReturnType<typeof Bun.spawn> | undefined;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) {
    process.on(signal, () => {
      if (!child) process.exit(128 + (signalNumbers[signal] ?? 0));
      if (signal === "SIGINT" && process.stdin.isTTY) return;
      child.kill(signal);
    });
  }
  let config: Config;
  try {
    const loadOptions = { env: process.env, envFile: options.envFile };
    config = loadConfig(loadOptions);
    // A project's own .env beside the command is easy to mistake for lynkr's: say what was left out.
    const files = envFiles(loadOptions);
    if (files.some((f) => f.ignored.length > 0)) say(`lynkr: configuration from ${describeEnvFiles(files)}`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`lynkr: ${error.message}\n`);
    process.exit(2);
  }
  let gateway: Awaited<ReturnType<typeof gatewayFor>>;
  try {
    gateway = await gatewayFor(config, say);
  } catch (error) {
    process.stderr.write(`lynkr: ${error instanceof ConfigError ? error.message : `cannot start the gateway: ${String(error)}`}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  }

  const started = Date.now();
  try {
    child = Bun.spawn(options.command, {
      stdio: ["inherit", "inherit", "inherit"],
      env: { ...process.env, ...clientEnv(config, process.env, gateway.url) },
    });
  } catch (error) {
    process.stderr.write(`lynkr: cannot run ${options.command[0]}: ${error instanceof Error ? error.message : String(error)}\n`);
    await gateway.own?.shutdown();
    process.exit(127);
  }

  const exitCode = await child.exited;
  const code = child.signalCode ? 128 + (signalNumbers[child.signalCode] ?? 0) : exitCode;
  if (gateway.own) await gateway.own.shutdown();
  if (!options.quiet) {
    const db = await reportsOf(config, "wrap", true);
    try {
      const figures = await db.reports.window({ since: started });
      say(sessionSummary(figures, Date.now() - started, gateway.own ? "gateway stopped" : `gateway at ${gateway.url} left running`));
    } finally {
      await db.close();
    }
  }
  if (gateway.logFd !== undefined) closeSync(gateway.logFd);
  process.exit(code);
}

export const wrapCommand = defineCommand({
  meta: { name: "wrap", description: "Run a command (e.g. claude) through lynkr: reuses a running lynkr or starts one for as long as the command runs" },
  args: {
    quiet: { type: "boolean", description: "Print nothing of lynkr's own (no summary at the end)" },
    "env-file": { type: "string", description: "Read configuration from this .env file" },
  },
  async run({ rawArgs }) {
    const options = splitWrapArgs(rawArgs);
    if (typeof options === "string") {
      process.stderr.write(`lynkr wrap: ${options}\n${usage}\n`);
      process.exit(2);
    }
    await wrap(options);
  },
});

export const codeCommand = defineCommand({
  meta: { name: "code", description: "Claude Code through lynkr: the same as lynkr wrap claude ARGS…" },
  async run({ rawArgs }) {
    const options = splitWrapArgs(["--", "claude", ...rawArgs]);
    if (typeof options === "string") process.exit(2);
    await wrap(options);
  },
});
