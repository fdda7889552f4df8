import { RedisClient, SQL } from "bun";
import type { Config } from "../config/schema.ts";
import { pointsAtSelf } from "../config/self-loop.ts";
import { databasePath, openDatabase } from "../store/db.ts";
import { configFingerprint } from "../config/fingerprint.ts";
import { loadRoutingFile } from "../config/routing-file.ts";
import { identify } from "./identity.ts";
import { fail, pass, type CheckResult } from "./types.ts";

// Checks of the machine lynkr runs on: its port, its database, and whether Claude Code in
// this shell would talk to it.

export function listenUrl(config: Pick<Config, "HOST" | "PORT">): string {
  const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.PORT}`;
}

/** This configuration's fingerprint, as a running lynkr reports its own; none when its routing file cannot be read. */
function fingerprintOf(config: Config): string | undefined {
  try {
    return configFingerprint(config, loadRoutingFile(config));
  } catch {
    return undefined;
  }
}

export async function checkPort(config: Config, timeoutMs: number): Promise<CheckResult> {
  const title = `port ${config.HOST}:${config.PORT}`;
  if (config.PORT === 0) return pass("port", title, "PORT=0: a free port is picked at start");
  try {
    const server = Bun.listen({ hostname: config.HOST, port: config.PORT, socket: { data() {} } });
    server.stop(true);
    return pass("port", title, "free");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "EADDRINUSE") {
      return fail("port", title, `cannot listen: ${String(code ?? error)}`, "set HOST to an address of this machine (127.0.0.1 or 0.0.0.0)");
    }
    const found = await identify(listenUrl(config), timeoutMs);
    const freeFix = `set PORT to a free port (e.g. PORT=${config.PORT + 1})`;
    if (found.kind !== "lynkr") return fail("port", title, "in use by another program", `stop that program, or ${freeFix}`);
    if (found.fingerprint === fingerprintOf(config)) return pass("port", title, `in use by a running lynkr ${found.version} of this configuration`);
    return fail("port", title, `held by another lynkr ${found.version} with a different configuration`, `stop that lynkr, or ${freeFix}`);
  }
}

export function checkDatabase(config: Config): CheckResult {
  const path = databasePath(config);
  try {
    const db = openDatabase(path);
    try {
      // A write lock proves the file (and its WAL) can be written, without changing anything.
      db.exec("BEGIN IMMEDIATE");
      db.exec("ROLLBACK");
    } finally {
      db.close(false);
    }
    return pass("database", "database", `${path} writable`);
  } catch (error) {
    return fail("database", "database", `${path}: ${error instanceof Error ? error.message : String(error)}`, "make its folder writable, or set SESSION_DB_PATH to a writable file");
  }
}

/** With LYNKR_DATABASE_URL: whether PostgreSQL answers (connect and SELECT 1), naming its host only. */
export async function checkPostgres(config: Pick<Config, "LYNKR_DATABASE_URL">, timeoutMs: number): Promise<CheckResult[]> {
  const url = config.LYNKR_DATABASE_URL;
  if (url === undefined) return [];
  // The host only: the URL may carry a password.
  const where = `postgres ${new URL(url).host}`;
  const sql = new SQL(url, { max: 1, connectionTimeout: Math.max(1, Math.ceil(timeoutMs / 1000)) });
  try {
    await sql`SELECT 1`;
    return [pass("postgres", "postgres", `${where} answers: sessions, turns and usage are kept there`)];
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return [fail("postgres", "postgres", `${where}: ${why.replaceAll(url, where)}`, "start PostgreSQL or correct LYNKR_DATABASE_URL (postgres://user:password@host:5432/database)")];
  } finally {
    await sql.close({ timeout: 1 });
  }
}

/** With LYNKR_REDIS_URL: whether the Redis replicas share their limits, budgets and circuits through answers. */
export async function checkSharedState(config: Pick<Config, "LYNKR_REDIS_URL">, timeoutMs: number): Promise<CheckResult[]> {
  if (config.LYNKR_REDIS_URL === undefined) return [];
  // The host only: the URL may carry a password.
  const where = `redis ${new URL(config.LYNKR_REDIS_URL).host}`;
  const client = new RedisClient(config.LYNKR_REDIS_URL, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: timeoutMs });
  try {
    await client.connect();
    const answer: unknown = await client.send("PING", []);
    if (answer !== "PONG") throw new Error(`answered PING with ${String(answer).slice(0, 64)}`);
    return [pass("shared_state", "shared state", `${where} answers: replicas share rate limits, budgets and circuit breakers`)];
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return [fail("shared_state", "shared state", `${where}: ${why.replace(config.LYNKR_REDIS_URL, where)}`, "start Redis or correct LYNKR_REDIS_URL; without it each replica enforces limits and budgets on its own")];
  } finally {
    client.close();
  }
}

/** Whether Claude Code, started from this shell, would send its requests to this gateway. */
export function checkClaudeCodeBaseUrl(config: Config, shellBaseUrl: string | undefined): CheckResult {
  const url = listenUrl(config);
  const title = "ANTHROPIC_BASE_URL";
  const fix = `export ANTHROPIC_BASE_URL=${url}`;
  if (!shellBaseUrl) return fail("base-url", title, "not set: Claude Code in this shell talks to Anthropic directly", fix);
  if (config.PORT !== 0 && pointsAtSelf(shellBaseUrl, config)) {
    // Claude Code posts to {ANTHROPIC_BASE_URL}/v1/messages: a base with a path of its own (…/v1) misses lynkr's routes.
    const path = new URL(shellBaseUrl).pathname.replace(/\/+$/, "");
    if (path !== "") {
      return fail("base-url", title, `${shellBaseUrl} has the path ${path}: Claude Code adds /v1/messages itself and would post to ${path}/v1/messages, which lynkr does not serve`, fix);
    }
    return pass("base-url", title, `${shellBaseUrl} points at this gateway`);
  }
  return fail("base-url", title, `${shellBaseUrl} is not this gateway (${url})`, fix);
}
