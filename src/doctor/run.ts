import { ConfigError, loadConfig } from "../config/load.ts";
import { providerNames, type ProviderName } from "../config/provider-names.ts";
import type { Config } from "../config/schema.ts";
import { loadRoutingFile, routingFilePath, type RoutingFile } from "../routing/config-file.ts";
import { createRouter } from "../routing/router.ts";
import { checkClaudeCodeBaseUrl, checkDatabase, checkPort } from "./checks.ts";
import { checkProvider, type ProviderUnderTest } from "./providers.ts";
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

function isProviderName(kind: string): kind is ProviderName {
  return (providerNames as readonly string[]).includes(kind);
}

/** The providers requests can reach, each with the settings it is built from. */
export function providersUnderTest(config: Config, file: RoutingFile | undefined): ProviderUnderTest[] {
  const router = createRouter(config, { file: file ?? null });
  return router.providers.flatMap((provider) => {
    const instance = file?.instances.get(provider.name);
    const kind = instance?.type ?? provider.kind;
    return isProviderName(kind) ? [{ name: provider.name, kind, config: instance?.config ?? config }] : [];
  });
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { result: configResult, config } = checkConfig(options);
  if (!config) return report([configResult]);
  const { result: fileResult, file } = checkRoutingFile(config);
  const providerChecks = providersUnderTest(config, file).map((target) => checkProvider(target, timeoutMs));
  const [providers, port] = await Promise.all([Promise.all(providerChecks), checkPort(config, timeoutMs)]);
  return report([
    configResult,
    fileResult,
    ...providers.flat(),
    port,
    checkDatabase(config),
    checkClaudeCodeBaseUrl(config, options.env.ANTHROPIC_BASE_URL),
  ]);
}
