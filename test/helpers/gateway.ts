import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { configureLogger } from "../../src/observability/logger.ts";
import { launchGateway, startGateway, type RunningGateway } from "../../src/app.ts";
import { lynkrFromSource } from "./lynkr-process.ts";
import { run, type RunResult } from "./run.ts";

import { tempDir } from "./temp-dirs.ts";

export { tempDir };

function testConfig(env: Record<string, string>) {
  const dir = tempDir();
  configureLogger((env.LOG_LEVEL as "silent" | undefined) ?? "silent", "json");
  const config = loadConfig({
    // The prompt cache would answer a test's repeated request without calling its fake upstream.
    env: { PORT: "0", HOST: "127.0.0.1", PROMPT_CACHE_ENABLED: "false", SESSION_DB_PATH: join(dir, "lynkr.db"), HOME: dir, ...env },
    cwd: dir,
  });
  return { dir, config };
}

/** The real gateway on an ephemeral loopback port, with its own database in a temp folder. */
export function startTestGateway(env: Record<string, string> = {}): RunningGateway & { dir: string } {
  const { dir, config } = testConfig(env);
  return { ...startGateway(config), dir };
}

/** The same, with the storage `env` asks for opened first: PostgreSQL when it sets LYNKR_DATABASE_URL. */
export async function launchTestGateway(env: Record<string, string> = {}): Promise<RunningGateway & { dir: string }> {
  const { dir, config } = testConfig(env);
  return { ...(await launchGateway(config)), dir };
}

/** Runs `lynkr <args>` from source as a separate process, with only `env`, PATH and HOME (= `cwd`). */
export function runCli(args: string[], env: Record<string, string> = {}, cwd = tempDir()): Promise<RunResult> {
  return run([...lynkrFromSource, ...args], { cwd, env: { PATH: process.env.PATH ?? "", HOME: cwd, ...env } });
}
