import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgresServer } from "../../test/helpers/postgres-server.ts";
import { startRedisServer } from "../../test/helpers/redis-server.ts";
import { freshDatabase } from "../../test/helpers/storage-backends.ts";
import { assertReachedUpstream, type BenchGateway, type BenchSection, spawnGateway, startFakeAnthropicUpstream } from "../lib.ts";

// Requests per second through 1, 2 and 3 replicas (gateway processes), requests spread
// round-robin by the load generator, with the state in each process and shared through one
// redis-server, and with the records (turns, usage) in each one's SQLite file or in one
// PostgreSQL. A rate limit and a daily budget are on in both modes (set far above the load),
// so every request takes from a bucket and holds and settles a budget: in process, or with two
// Lua scripts on Redis. Everything (load generator, fake upstream, Redis, replicas) shares this
// machine's cores: more replicas cannot add cores here, the table shows what coordination costs.

const concurrency = 48;
const seconds = 3;
const warmupRequests = 100;

const body = JSON.stringify({ model: "claude-bench", max_tokens: 64, messages: [{ role: "user", content: "hello" }] });

async function throughput(replicas: BenchGateway[], forSeconds: number): Promise<{ rps: number; errors: number; sent: number }> {
  let next = 0;
  let done = 0;
  let errors = 0;
  const until = performance.now() + forSeconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const replica = replicas[next++ % replicas.length] as BenchGateway;
        const res = await fetch(`${replica.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body });
        await res.arrayBuffer();
        if (res.status === 200) done++;
        else errors++;
      }
    }),
  );
  return { rps: done / ((performance.now() - started) / 1000), errors, sent: done + errors };
}

export default async function scale(): Promise<BenchSection> {
  const upstream = startFakeAnthropicUpstream();
  const redis = await startRedisServer();
  const pg = await startPostgresServer();
  const rows: (string | number)[][] = [];
  // A price for the fake model, so every request holds and settles its budget.
  const dir = mkdtempSync(join(tmpdir(), "lynkr-bench-scale-"));
  const prices = join(dir, "lynkr.json");
  writeFileSync(prices, JSON.stringify({ prices: { "claude-bench": { input: 1, output: 5 } } }));
  const limits = { RATE_LIMIT_REQUESTS_PER_MINUTE: "10000000", BUDGET_DAILY_USD: "1000000", LYNKR_CONFIG: prices, ANTHROPIC_UPSTREAM_URL: upstream.url };
  try {
    const modes = [
      { shared: false, storage: "SQLite" },
      { shared: true, storage: "SQLite" },
      { shared: true, storage: "PostgreSQL" },
    ] as const;
    for (const { shared, storage } of modes) {
      for (const count of [1, 2, 3]) {
        const env: Record<string, string> = shared ? { ...limits, LYNKR_REDIS_URL: redis.url } : { ...limits };
        if (storage === "PostgreSQL") env.LYNKR_DATABASE_URL = await freshDatabase(pg);
        const replicas = await Promise.all(Array.from({ length: count }, () => spawnGateway(env)));
        try {
          if (shared) {
            for (const replica of replicas) {
              const until = Date.now() + 10_000;
              while (Date.now() < until) {
                const ready = (await (await fetch(`${replica.url}/health/ready`)).json()) as { checks: Record<string, string> };
                if (ready.checks.shared_state === "ok") break;
                await Bun.sleep(50);
              }
            }
          }
          const before = upstream.requests;
          await throughput(replicas, warmupRequests / 1000);
          const result = await throughput(replicas, seconds);
          assertReachedUpstream(upstream, before, result.sent);
          if (result.errors > 0) throw new Error(`${result.errors} requests failed with ${count} replicas${shared ? " on Redis" : ""} (${storage})`);
          rows.push([count, storage, shared ? "Redis" : "in process", Math.round(result.rps)]);
        } finally {
          await Promise.all(replicas.map((replica) => replica.stop()));
        }
      }
    }
  } finally {
    await pg.close();
    await redis.close();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const local = new Map(rows.filter((r) => r[2] === "in process").map((r) => [r[0], Number(r[3])]));
  return {
    title: "Replicas: requests per second; state in process vs shared through Redis; records in SQLite vs PostgreSQL",
    columns: ["replicas", "records", "shared state", "requests/s", "vs SQLite in process"],
    rows: rows.map((r) => [...r, r[2] === "in process" ? "—" : `${((Number(r[3]) / (local.get(r[0]) ?? Number.NaN)) * 100).toFixed(0)}%`]),
    notes: [
      `This machine has ${availableParallelism()} cores, shared by the load generator (concurrency ${concurrency}), the fake upstream, redis-server and every replica (and other work on the machine): more replicas add no cores here, so the rows show coordination cost, not scaling. On separate nodes each replica brings its own cores.`,
      `Rate limit and daily budget on in every row (far above the load): per request one bucket take, one budget hold and one settle — in process, or one Lua script each on Redis. ${seconds} s per row after a warm-up, non-streamed small requests.`,
      "PostgreSQL (Debian's, on this machine, fsync off as in the tests): every answer waits for its usage row and turn record to commit before its response ends (batched with other requests' into one transaction per round trip); each replica's pool is LYNKR_DATABASE_POOL_MAX=10.",
    ],
  };
}
