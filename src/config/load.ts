import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "node:util";
import { envSchema, type Config } from "./schema.ts";
import { selfLoopProblems } from "./self-loop.ts";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  /** The process environment; the only place lynkr reads it is the caller of this function. */
  env: Record<string, string | undefined>;
  /** An explicit .env file; when absent, `.env` in the working directory is read if it exists. */
  envFile?: string;
  cwd?: string;
  /** Values from command-line flags; they win over the environment and the file. */
  overrides?: Record<string, string | undefined>;
}

export function readEnvFile(path: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
  } catch (error) {
    throw new ConfigError([`cannot read env file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
}

export function loadConfig(options: LoadOptions): Config {
  const cwd = options.cwd ?? process.cwd();
  let fileValues: Record<string, string> = {};
  if (options.envFile) {
    fileValues = readEnvFile(resolve(cwd, options.envFile));
  } else {
    const local = resolve(cwd, ".env");
    if (existsSync(local)) fileValues = readEnvFile(local);
  }
  const merged: Record<string, string> = {};
  for (const source of [fileValues, options.env, options.overrides ?? {}]) {
    for (const [key, value] of Object.entries(source)) {
      // An empty variable means "not set", as it does for most tools users know.
      if (value !== undefined && value.trim() !== "") merged[key] = value;
    }
  }
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? "config");
        const got = merged[name];
        return `${name}${got === undefined ? "" : `=${JSON.stringify(redactIfSecret(name, got))}`}: ${issue.message}`;
      }),
    );
  }
  const loops = selfLoopProblems(parsed.data);
  if (loops.length > 0) throw new ConfigError(loops);
  return parsed.data;
}

function redactIfSecret(name: string, value: string): string {
  return /KEY|TOKEN|SECRET|PASSWORD/.test(name) ? "***" : value;
}
