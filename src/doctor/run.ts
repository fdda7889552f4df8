import { ConfigError, loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { selfLoop, type Upstream } from "../config/self-loop.ts";
import { loadRoutingFile, routingFilePath, type RoutingFile } from "../config/routing-file.ts";
import { upstreamsOf } from "../routing/upstreams.ts";
import { buildRouteProviders } from "../routing/providers.ts";
import { checkClaudeCodeBaseUrl, checkDatabase, checkPort, checkPostgres, checkSharedState } from "./checks.ts";
import { checkMcpServers } from "./mcp.ts";
import { checkProvider } from "../providers/descriptors.ts";
import { checkCredentials } from "./credentials.ts";
import { fail, pass, type CheckResult } from "./types.ts";

// Every check `lynkr doctor` makes, in the order it prints them. Exposed as data so that other
// commands (`lynkr init`) can run them and show their own view.

export interface DoctorOptions {
  /** The process environment (ANTHROPIC_BASE_URL is read from it too). */
  env: Record<string, string | undefined>;
  envFile?: string;
  cwd?: string;
  /** Per network check. */
  timeoutMs?: number;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

function report(checks: CheckResult[]): DoctorReport {
  return { ok: checks.every((c) => c.ok), checks };
}

export function checkConfig(options: DoctorOptions): { result: CheckResult; config?: Config } {
  try {
    const config = loadConfig({ env: options.env, envFile: options.envFile, cwd: options.cwd });
    const hybrid = config.PREFER_OLLAMA ? ", PREFER_OLLAMA=true" : "";
    return { result: pass("config", "configuration", `valid (MODEL_PROVIDER=${config.MODEL_PROVIDER}${hybrid})`), config };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { result: fail("config", "configuration", error.problems.join("; "), "set the variables named here to the values they list (README: Configuration)") };
  }
}

export function checkRoutingFile(config: Config): { result: CheckResult; file?: RoutingFile } {
  const { path } = routingFilePath(config);
  try {
    const file = loadRoutingFile(config);
    if (!file) return { result: pass("routing-file", "routing file", `none at ${path} (optional)`) };
    const rules = Object.keys(file.rules).filter((k) => k !== "longContextThreshold");
    const detail = `${path}: ${file.instances.size} named provider(s), rules: ${rules.join(", ") || "none"}`;
    return { result: pass("routing-file", "routing file", detail), file };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { result: fail("routing-file", "routing file", error.problems.join("; "), `fix ${path} at the keys named here (README: Routing)`) };
  }
}

/** A provider that would call lynkr itself fails without a probe (which could reach this very gateway). */
async function checkUpstream(upstream: Upstream, config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const loop = selfLoop(upstream, config);
  if (loop) return [fail(`provider:${upstream.name}`, `provider ${upstream.name}`, loop.problem, loop.fix)];
  return checkProvider(upstream, timeoutMs);
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { result: configResult, config } = checkConfig(options);
  if (!config) return report([configResult]);
  const { result: fileResult, file } = checkRoutingFile(config);
  // No server runs here, so doctor builds the providers `lynkr start` would route to.
  const upstreams = upstreamsOf([...buildRouteProviders(config, file).byName.values()], config, file);
  const providerChecks = upstreams.map((upstream) => checkUpstream(upstream, config, timeoutMs));
  const [providers, port, mcp, shared, postgres] = await Promise.all([
    Promise.all(providerChecks),
    checkPort(config, timeoutMs),
    checkMcpServers(config),
    checkSharedState(config, timeoutMs),
    checkPostgres(config, timeoutMs),
  ]);
  return report([
    configResult,
    fileResult,
    ...providers.flat(),
    ...checkCredentials(upstreams, file),
    port,
    checkDatabase(config),
    ...postgres,
    ...shared,
    checkClaudeCodeBaseUrl(config, options.env.ANTHROPIC_BASE_URL),
    ...mcp,
  ]);
}
