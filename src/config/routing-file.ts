import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "./load.ts";
import { lynkrDir, userHome } from "./lynkr-dir.ts";
import { isProviderName, providerNames, type ProviderName } from "./provider-names.ts";
import { missingProviderVariables, providerUrlVariable } from "./provider-settings.ts";
import { envShape, type Config } from "./schema.ts";
import { priceTableSchema, type PriceTable } from "./sections/prices.ts";

// The LYNKR_CONFIG file: named provider instances and the rules claude-code-router users know
// (background model, thinking, long context, default), validated with every problem named by
// file and key.
//
// {
//   "providers": { "gpu-box": { "type": "ollama", "OLLAMA_ENDPOINT": "http://10.0.0.5:11434" } },
//   "router": {
//     "default": "anthropic",
//     "background": "gpu-box,qwen2.5-coder:7b",
//     "think": { "provider": "openrouter", "model": "deepseek/deepseek-r1" },
//     "longContext": "openrouter,google/gemini-2.5-pro",
//     "longContextThreshold": 60000
//   },
//   "fallback": ["openrouter", "anthropic"]
// }

export interface TargetRef {
  provider: string;
  model?: string;
}

export interface ProviderInstance {
  type: ProviderName;
  /** Credential settings the environment has that this instance did not inherit (its address is its own). */
  withheld: string[];
  /** The environment's settings with this instance's own on top. */
  config: Config;
}

export interface RoutingRules {
  default?: TargetRef;
  background?: TargetRef;
  think?: TargetRef;
  longContext?: TargetRef;
  longContextThreshold: number;
}

export interface RoutingFile {
  path: string;
  instances: Map<string, ProviderInstance>;
  rules: RoutingRules;
  /** Providers to fail over to, in order, replacing FALLBACK_PROVIDER. */
  fallback?: string[];
  prices?: PriceTable;
}

const settingValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const targetSchema = z.union([
  z
    .string()
    .trim()
    .regex(/^[^,\s]+(,\s*\S.*)?$/, { error: 'expected "provider" or "provider,model"' })
    .transform((value): TargetRef => {
      const comma = value.indexOf(",");
      return comma < 0 ? { provider: value } : { provider: value.slice(0, comma), model: value.slice(comma + 1).trim() };
    }),
  z.strictObject({ provider: z.string().min(1), model: z.string().min(1).optional() }),
]);

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  providers: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, { error: "expected a name of letters, digits, '.', '_' or '-'" }),
      z.looseObject({ type: z.enum(providerNames, { error: `expected one of: ${providerNames.join(", ")}` }) }),
    )
    .optional(),
  router: z
    .strictObject({
      default: targetSchema.optional(),
      background: targetSchema.optional(),
      think: targetSchema.optional(),
      longContext: targetSchema.optional(),
      longContextThreshold: z.number().int().positive().optional(),
    })
    .optional(),
  fallback: z.array(z.string().min(1)).optional(),
  /** US dollars per million tokens, by model name prefix, over the built-in table (usage/prices.ts). */
  prices: priceTableSchema.optional(),
});

const settingSchemas: Record<string, z.ZodType> = envShape;

/**
 * Settings that hand a credential to an upstream: every provider key, and the opt-in that
 * forwards a client's Anthropic credential. An instance at an address of its own inherits none of
 * them from the environment (they were given for the environment's address): it names its own.
 */
export const credentialVariables = Object.keys(envShape).filter((key) => key.endsWith("_API_KEY") || key === "ANTHROPIC_FORWARD_CLIENT_CREDENTIALS");

export function routingFilePath(config: Config): { path: string; explicit: boolean } {
  if (config.LYNKR_CONFIG) {
    const path = config.LYNKR_CONFIG.replace(/^~(?=\/|$)/, () => userHome(config.HOME));
    return { path: resolve(path), explicit: true };
  }
  return { path: join(lynkrDir(config.HOME), "config.json"), explicit: false };
}

function instanceFor(name: string, raw: { type: ProviderName; [key: string]: unknown }, config: Config, problems: string[]): ProviderInstance {
  const { type } = raw;
  const merged: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(raw)) {
    if (key === "type") continue;
    const schema = Object.hasOwn(settingSchemas, key) ? settingSchemas[key] : undefined;
    if (!schema) {
      problems.push(`providers.${name}.${key}: not a lynkr setting; use the environment variable names, e.g. OLLAMA_ENDPOINT`);
      continue;
    }
    const text = settingValue.safeParse(value);
    const parsed = text.success ? schema.safeParse(text.data) : undefined;
    if (!parsed?.success) {
      problems.push(`providers.${name}.${key}: ${parsed?.error.issues[0]?.message ?? "expected a string, number or boolean"}`);
      continue;
    }
    merged[key] = parsed.data;
  }
  const urlVariable = providerUrlVariable(type);
  const withheld: string[] = [];
  if (merged[urlVariable] !== config[urlVariable]) {
    for (const key of credentialVariables) {
      if (Object.hasOwn(raw, key)) continue;
      const relevant = key.endsWith("_API_KEY") || type === "anthropic";
      if (relevant && merged[key] !== undefined && merged[key] !== false) withheld.push(key);
      merged[key] = typeof merged[key] === "boolean" ? false : undefined;
    }
  }
  const instanceConfig = merged as Config;
  for (const { variable, hint } of missingProviderVariables(type, instanceConfig)) {
    problems.push(`providers.${name}.${variable}: required for type ${type}: ${hint}`);
  }
  return { type, withheld, config: instanceConfig };
}

/** Reads and checks the routing file; undefined when the default path holds none. */
export function loadRoutingFile(config: Config): RoutingFile | undefined {
  const { path, explicit } = routingFilePath(config);
  const fail = (problems: string[]) => new ConfigError(problems.map((p) => `LYNKR_CONFIG ${path}: ${p}`));
  if (!existsSync(path)) {
    if (explicit) throw fail(["file not found (LYNKR_CONFIG names a routing file that does not exist)"]);
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw fail([`not valid JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw fail(parsed.error.issues.map((issue) => `${issue.path.join(".") || "(top level)"}: ${issue.message}`));
  }

  const problems: string[] = [];
  const instances = new Map<string, ProviderInstance>();
  for (const [name, raw] of Object.entries(parsed.data.providers ?? {})) {
    if (isProviderName(name)) {
      problems.push(`providers.${name}: "${name}" is a built-in provider (configured from the environment); give this instance another name`);
      continue;
    }
    instances.set(name, instanceFor(name, raw, config, problems));
  }

  const known = (provider: string, where: string) => {
    if (instances.has(provider)) return;
    if (isProviderName(provider)) {
      for (const { variable, hint } of missingProviderVariables(provider, config)) {
        problems.push(`${where}: provider ${provider} needs ${variable} (${hint})`);
      }
      return;
    }
    const names = [...providerNames, ...instances.keys()];
    problems.push(`${where}: unknown provider "${provider}"; expected one of: ${names.join(", ")}`);
  };
  const router = parsed.data.router ?? {};
  const rules: RoutingRules = { longContextThreshold: router.longContextThreshold ?? 60_000 };
  for (const key of ["default", "background", "think", "longContext"] as const) {
    const target = router[key];
    if (!target) continue;
    known(target.provider, `router.${key}`);
    rules[key] = target;
  }
  parsed.data.fallback?.forEach((provider, i) => known(provider, `fallback.${i}`));
  if (problems.length > 0) throw fail(problems);
  return {
    path,
    instances,
    rules,
    ...(parsed.data.fallback ? { fallback: parsed.data.fallback } : {}),
    ...(parsed.data.prices ? { prices: parsed.data.prices } : {}),
  };
}
