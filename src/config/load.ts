import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import type { z } from "zod";
import { lynkrDir } from "./lynkr-dir.ts";
import { envSchema, envShape, type Config } from "./schema.ts";

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
   * An explicit .env file, read alone; when absent, ~/.lynkr/.env (what `lynkr init` writes) and
   * over it lynkr's own variables from a `.env` in the working directory (see envFiles).
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

/** Where `lynkr init` writes by default, and what `lynkr start` reads first. */
export function userEnvFile(env: Record<string, string | undefined>): string {
  return join(lynkrDir(env.HOME), ".env");
}

/** One .env file a load read: the variables taken from it, and those left to other programs. */
export interface EnvFileRead {
  path: string;
  values: Record<string, string>;
  ignored: string[];
}

const lynkrVariables = new Set(Object.keys(envShape));

/**
 * Names lynkr shares with other programs: a project's own .env sets them for its own server or
 * SDK (its PORT, its OPENAI_API_KEY). From a working-directory .env they are taken only when
 * that file is a lynkr file, i.e. sets MODEL_PROVIDER or a LYNKR_ variable.
 */
function sharedName(name: string): boolean {
  return ["PORT", "HOST", "HOME", "XDG_DATA_HOME", "LOG_LEVEL", "LOG_FORMAT"].includes(name) || /_API_KEY$|^OPENAI_|^AZURE_OPENAI_/.test(name);
}

/** The variables of a working-directory .env that are lynkr's; the rest are the project's. */
function lynkrPart(values: Record<string, string>): { values: Record<string, string>; ignored: string[] } {
  const names = Object.keys(values);
  const lynkrFile = names.some((name) => name === "MODEL_PROVIDER" || name.startsWith("LYNKR_"));
  const taken = names.filter((name) => lynkrVariables.has(name) && (lynkrFile || !sharedName(name)));
  return { values: Object.fromEntries(taken.map((name) => [name, values[name] as string])), ignored: names.filter((name) => !taken.includes(name)) };
}

/**
 * The .env files a load reads, in order (a later one wins): --env-file alone; else
 * ~/.lynkr/.env, then lynkr's variables from ./.env. Missing files are left out.
 */
export function envFiles(options: LoadOptions): EnvFileRead[] {
  const cwd = options.cwd ?? process.cwd();
  if (options.envFile) {
    const path = resolve(cwd, options.envFile);
    return [{ path, values: readEnvFile(path), ignored: [] }];
  }
  const files: EnvFileRead[] = [];
  const user = userEnvFile(options.env);
  if (existsSync(user)) files.push({ path: user, values: readEnvFile(user), ignored: [] });
  const local = resolve(cwd, ".env");
  if (local !== user && existsSync(local)) files.push({ path: local, ...lynkrPart(readEnvFile(local)) });
  return files;
}

/** For start-up banners: every file read, and what was left out of each. */
export function describeEnvFiles(files: EnvFileRead[]): string {
  if (files.length === 0) return "the environment only (no .env file)";
  return files
    .map((f) => `${f.path} (${Object.keys(f.values).length} variables${f.ignored.length ? `; not lynkr's, ignored: ${f.ignored.join(", ")}` : ""})`)
    .join(", then ");
}

export function loadConfig(options: LoadOptions): Config {
  const merged: Record<string, string> = {};
  const sources = [...envFiles(options).map((f) => f.values), options.env, options.overrides ?? {}];
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) {
      // An empty variable means "not set", as it does for most tools users know.
      if (value !== undefined && value.trim() !== "") merged[key] = value;
    }
  }
  // Parsed once per process: zod's compiled fast path for this object costs more to build (~10 ms
  // of every start) than it saves on one parse.
  const parsed = envSchema.safeParse(merged, { jitless: true });
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
  if (/KEY|TOKEN|SECRET|PASSWORD/.test(name)) return "***";
  // A URL may carry a password (redis://:password@host): the rest is what helps fix it.
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i, "$1***@");
}
