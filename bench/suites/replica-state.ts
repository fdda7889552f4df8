import { availableParallelism, loadavg } from "node:os";
import { PromptKey } from "../../src/cache/key.ts";
import { PostgresEntries } from "../../src/cache/postgres-entries.ts";
import { RedisConversations } from "../../src/shared-state/redis-conversations.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { startPostgresServer } from "../../test/helpers/postgres-server.ts";
import { RedisLink } from "../../src/shared-state/redis-link.ts";
import { startRedisServer } from "../../test/helpers/redis-server.ts";
import { type BenchGateway, type BenchSection, median, ms, percentile, recordedClaudeCodeRequest, startFakeAnthropicUpstream, startGatewayInProcess } from "../lib.ts";

// What sharing a conversation's state and the prompt cache through Redis costs a request. One
// client sends the recorded Claude Code request (48 KB, its tools, its session) one after
// another, each with a new last message (a prompt cache miss that reaches the upstream), with
// the prompt cache on and OPTIMIZE_PROFILE=full (sticky tool order): per request the cache
// lookup and the conversation's record are read from Redis together (one round trip), the
// thread state written back in the background. Then hits: answers stored by one replica, read
// by another (from Redis), then by it again (from its memory).

const requests = 500;
const hits = 100;

type Body = Record<string, unknown> & { messages: { role: string; content: unknown }[] };

export default async function replicaState(): Promise<BenchSection> {
  const recorded = await recordedClaudeCodeRequest();
  const base = recorded.body as Body;
  const upstream = startFakeAnthropicUpstream();
  const redis = await startRedisServer();
  const env = { ANTHROPIC_UPSTREAM_URL: upstream.url, PROMPT_CACHE_ENABLED: "true", PROMPT_CACHE_MAX_ENTRIES: "1000", OPTIMIZE_PROFILE: "full" };
  const headers = { ...recorded.headers, "content-type": "application/json", "x-claude-code-session-id": "bench-session" };
  const bodyFor = (label: string) => JSON.stringify({ ...base, messages: [...base.messages, { role: "user", content: label }], stream: false });
  const send = async (gateway: BenchGateway, body: string, expectCache: string | null) => {
    const res = await fetch(`${gateway.url}${recorded.path}`, { method: "POST", headers, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    if (res.headers.get("x-lynkr-cache") !== expectCache) throw new Error(`x-lynkr-cache ${res.headers.get("x-lynkr-cache")}, expected ${expectCache}`);
  };
  const timed = async (count: number, one: (i: number) => Promise<void>) => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await one(i);
      out.push(performance.now() - started);
    }
    return out;
  };
  const rows: (string | number)[][] = [];
  const row = (what: string, samples: number[]) => rows.push([what, samples.length, ms(median(samples)), ms(percentile(samples, 90)), ms(percentile(samples, 99))]);
  try {
    // Both gateways up at once, requests alternating between them: both rows see the same load.
    const local = startGatewayInProcess(env);
    const shared = startGatewayInProcess({ ...env, LYNKR_REDIS_URL: redis.url });
    try {
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const ready = (await (await fetch(`${shared.url}/health/ready`)).json()) as { checks: Record<string, string> };
        if (ready.checks.shared_state === "ok") break;
        await Bun.sleep(50);
      }
      for (let i = 0; i < 30; i++) for (const gateway of [local, shared]) await send(gateway, bodyFor(`warm-up ${gateway.url} ${i}`), null);
      const times = { local: [] as number[], shared: [] as number[] };
      for (let i = 0; i < requests; i++) {
        for (const [name, gateway] of [["local", local], ["shared", shared]] as const) {
          const started = performance.now();
          await send(gateway, bodyFor(`miss ${name} ${i}`), null);
          times[name].push(performance.now() - started);
        }
      }
      row("miss, to the upstream — in process", times.local);
      row("miss, to the upstream — Redis", times.shared);
    } finally {
      await Promise.all([local.stop(), shared.stop()]);
    }
    // The round trips themselves, on this replica's kind of link: the cache's GET, the
    // conversation's read, and both in flight together (as a request sends them).
    const link = new RedisLink(redis.url);
    link.start();
    try {
      while (!link.up) await Bun.sleep(10);
      const conversations = new RedisConversations(link);
      row("Redis: prompt cache GET alone", await timed(requests, () => link.send("GET", ["lynkr:prompt-cache:1"]).then(() => {})));
      row("Redis: conversation read alone", await timed(requests, () => conversations.open("bench-session").ready));
      row("Redis: both in flight together", await timed(requests, () => Promise.all([link.send("GET", ["lynkr:prompt-cache:1"]), conversations.open("bench-session").ready]).then(() => {})));
    } finally {
      link.stop();
    }
    // Without Redis, a replica on PostgreSQL asks it instead: one indexed query by fingerprint.
    const pg = await startPostgresServer();
    const sql = await openPostgres(pg.url, postgresAreas, { maxConnections: 2 });
    try {
      const entries = new PostgresEntries(sql);
      const keys = Array.from({ length: requests }, (_, i) => {
        const text = bodyFor(`pg ${i}`);
        return new PromptKey(JSON.parse(text), "bench", text);
      });
      row("PostgreSQL: prompt cache lookup (a miss)", await timed(requests, (i) => entries.find(keys[i] as PromptKey, Date.now()).then(() => {})));
    } finally {
      await sql.close();
      await pg.close();
    }
    const [writer, reader] = [0, 1].map(() => startGatewayInProcess({ ...env, LYNKR_REDIS_URL: redis.url })) as [BenchGateway, BenchGateway];
    try {
      await Bun.sleep(500);
      for (let i = 0; i < hits; i++) await send(writer, bodyFor(`hit ${i}`), null);
      await Bun.sleep(200);
      row("hit, stored by another replica (Redis)", await timed(hits, (i) => send(reader, bodyFor(`hit ${i}`), "hit")));
      row("hit, again on that replica (its memory)", await timed(hits, (i) => send(reader, bodyFor(`hit ${i}`), "hit")));
    } finally {
      await Promise.all([writer.stop(), reader.stop()]);
    }
  } finally {
    await redis.close();
    await upstream.stop();
  }
  return {
    title: "Replica state: a request's latency with the prompt cache and conversation state in process vs in Redis",
    columns: ["request", "n", "p50 ms", "p90 ms", "p99 ms"],
    rows,
    notes: [
      `One client, requests one after another, gateway in the bench process, 48 KB recorded Claude Code request (non-streamed), redis-server on loopback. ${availableParallelism()} cores shared with other work (load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} at the end): compare rows of the same run.`,
    ],
  };
}
