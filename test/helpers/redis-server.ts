import { RedisClient } from "bun";
import { afterAll, beforeAll } from "bun:test";
import { configureLogger } from "../../src/observability/logger.ts";
import { RedisLink } from "../../src/shared-state/redis-link.ts";
import { rmSync } from "node:fs";
import { freePort, type LoopbackServer } from "./ports.ts";
import { tempDir } from "./gateway.ts";

// A real redis-server (Debian's `redis-server` package) on 127.0.0.1, a free port and a temp
// folder, without persistence. A test that needs it fails when the binary is missing: `.ci/run`
// installs it.

export type RedisServer = LoopbackServer;

function binary(): string {
  const found = Bun.which("redis-server");
  if (!found) throw new Error("redis-server is not installed: apt-get install -y redis-server (the CI installs it via .ci/run)");
  return found;
}

async function untilAnswers(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const client = new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 500 });
    try {
      await client.connect();
      if ((await client.send("PING", [])) === "PONG") return;
    } catch (error) {
      if (Date.now() > until) throw new Error(`redis-server did not answer on ${url}: ${String(error)}`);
    } finally {
      client.close();
    }
    await Bun.sleep(50);
  }
}

export async function startRedisServer(): Promise<RedisServer> {
  const bin = binary();
  const dir = tempDir("lynkr-redis-");
  const port = freePort();
  const url = `redis://127.0.0.1:${port}`;
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const start = async () => {
    proc = Bun.spawn([bin, "--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "yes"], {
      stdout: "ignore",
      stderr: "pipe",
    });
    await untilAnswers(url, 10_000);
  };
  const stop = async () => {
    if (!proc) return;
    proc.kill("SIGKILL");
    await proc.exited;
    proc = undefined;
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One redis-server for a test file (started before its tests, stopped after), and links to it
 * as replicas hold them, each connected before it is returned. Call at the file's top level.
 */
export function redisForTests(): { server(): RedisServer; link(): Promise<RedisLink> } {
  let redis: RedisServer | undefined;
  const links: RedisLink[] = [];
  beforeAll(async () => {
    configureLogger("silent", "json");
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const link of links) link.stop();
    await redis?.close();
  });
  const server = () => {
    if (!redis) throw new Error("redisForTests: the server starts in beforeAll");
    return redis;
  };
  return {
    server,
    async link() {
      const link = new RedisLink(server().url);
      links.push(link);
      link.start();
      const until = Date.now() + 10_000;
      while (!link.up && Date.now() < until) await Bun.sleep(20);
      if (!link.up) throw new Error(`the link to ${server().url} did not come up within 10 s`);
      return link;
    },
  };
}
