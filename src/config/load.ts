import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import type { z } from "zod";
import { lynkrDir } from "./lynkr-dir.ts";
import { envSchema, type Config } from "./schema.ts";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  /** The process environment; the only place lynkr reads it is the caller of this function. */
  env: Record<string, string | undefined>;
  /**
   * An explicit .env file; when absent, `.env` in the working directory is read if it exists,
   * else the user's file written by `lynkr init` (~/.lynkr/.env) if that exists.
   */
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

/** Where `lynkr init` writes by default, and where `lynkr start` looks last. */
export function userEnvFile(env: Record<string, string | undefined>): string {
  return join(lynkrDir(env.HOME), ".env");
}

/** The one .env file a load reads: --env-file, else ./.env, else ~/.lynkr/.env; none when neither exists. */
export function resolveEnvFile(options: LoadOptions): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  if (options.envFile) return resolve(cwd, options.envFile);
  return [resolve(cwd, ".env"), userEnvFile(options.env)].find((path) => existsSync(path));
}

export function loadConfig(options: LoadOptions): Config {
  const envFile = resolveEnvFile(options);
  const fileValues: Record<string, string> = envFile ? readEnvFile(envFile) : {};
  const merged: Record<string, string> = {};
  for (const source of [fileValues, options.env, options.overrides ?? {}]) {
    for (const [key, value] of Object.entries(source)) {
      // An empty variable means "not set", as it does for most tools users know.
      if (value !== undefined && value.trim() !== "") merged[key] = value;
    }
  }
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(allProblems(merged, parsed.error.issues));
  return parsed.data;
}

/**
 * Every problem at once. Cross-field checks (a provider's required variables, routing) only run
 * once each variable parses on its own; so the bad ones are set aside and the rest checked
 * again, and the user fixes everything in one go instead of one error per start.
 */
function allProblems(merged: Record<string, string>, issues: z.core.$ZodIssue[]): string[] {
  const describe = (issue: z.core.$ZodIssue) => {
    const name = String(issue.path[0] ?? "config");
    const got = merged[name];
    return { name, text: `${name}${got === undefined ? "" : `=${JSON.stringify(redactIfSecret(name, got))}`}: ${issue.message}` };
  };
  const problems = issues.map(describe);
  const reported = new Set(problems.map((p) => p.name));
  const rest = Object.fromEntries(Object.entries(merged).filter(([name]) => !reported.has(name)));
  const again = envSchema.safeParse(rest);
  if (!again.success) {
    for (const problem of again.error.issues.map(describe)) {
      if (!problems.some((p) => p.text === problem.text)) problems.push(problem);
    }
  }
  return problems.map((p) => p.text);
}

function redactIfSecret(name: string, value: string): string {
  return /KEY|TOKEN|SECRET|PASSWORD/.test(name) ? "***" : value;
}
