import { RedisClient, type SQL } from "bun";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { Message } from "../../src/anthropic/schema.ts";
import { PromptKey } from "../../src/cache/key.ts";
import { PostgresEntries } from "../../src/cache/postgres-entries.ts";
import { PromptCache, type CachedFrame, type DurableEntries } from "../../src/cache/prompt-cache.ts";
import { RedisEntries } from "../../src/cache/redis-entries.ts";
import { SqliteEntries } from "../../src/cache/sqlite-entries.ts";
import { configureLogger } from "../../src/observability/logger.ts";
import { RedisLink } from "../../src/shared-state/redis-link.ts";
import { openDatabase } from "../../src/store/db.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { startPostgresServer, type PostgresServer } from "../helpers/postgres-server.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";

// The prompt cache over each of its tier setups, against the real servers: SQLite alone (one
// process), PostgreSQL (replicas share the durable store), PostgreSQL + Redis (and SQLite +
// Redis: replicas that share only Redis). "Another replica" is a second PromptCache over the
// same stores, with a memory of its own.

let pg: PostgresServer;
let redis: RedisServer;
let sql: SQL;
const links: RedisLink[] = [];

beforeAll(async () => {
  configureLogger("silent", "json");
  [pg, redis] = await Promise.all([startPostgresServer(), startRedisServer()]);
  sql = await openPostgres(pg.url, postgresAreas, { maxConnections: 4 });
}, 60_000);

afterAll(async () => {
  for (const link of links) link.stop();
  await sql?.close();
  await Promise.all([pg?.close(), redis?.close()]);
});

beforeEach(async () => {
  await sql`TRUNCATE prompt_cache`;
  const admin = new RedisClient(redis.url);
  await admin.send("FLUSHALL", []);
  admin.close();
});

async function connectedLink(): Promise<RedisLink> {
  const link = new RedisLink(redis.url);
  links.push(link);
  link.start();
  for (let i = 0; i < 500 && !link.up; i++) await Bun.sleep(20);
  if (!link.up) throw new Error("redis link did not come up");
  return link;
}

interface Setup {
  /** Each call: one replica's tiers (the durable store and Redis shared, where the setup shares them). */
  replica(max: number, now: () => number): Promise<PromptCache>;
}

const setups: Record<string, () => Setup> = {
  sqlite: () => {
    const db = openDatabase(":memory:");
    return { replica: async (max, now) => new PromptCache({ durable: new SqliteEntries(db, max, now()) }, 60_000, max, now, 60_000) };
  },
  postgres: () => ({
    replica: async (max, now) => new PromptCache({ durable: new PostgresEntries(sql) }, 60_000, max, now, 60_000),
  }),
  "postgres + redis": () => ({
    replica: async (max, now) => new PromptCache({ durable: new PostgresEntries(sql), hot: new RedisEntries(await connectedLink(), max, 4096, now) }, 60_000, max, now, 60_000),
  }),
};

const message = (text: string): Message =>
  ({
    id: `msg_${text}`,
    type: "message",
    role: "assistant",
    model: "claude-x",
    // Members in an unusual order and non-ASCII text: a JSON hit must be the bytes first sent.
    content: [{ text: `${text} — ✓`, type: "text" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { output_tokens: 3, input_tokens: 5 },
  }) as Message;

const frames: CachedFrame[] = [
  { type: "message_start", data: '{"type":"message_start","message":{"id":"msg_x"}}' },
  { type: "content_block_delta", data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\u2028b"}}' },
  { type: "message_stop", data: '{"type":"message_stop"}' },
];

const keyFor = (content: string, scope = "scope") => {
  const body = { model: "m", max_tokens: 5, messages: [{ role: "user" as const, content }], stream: true };
  return new PromptKey(body, scope, JSON.stringify(body));
};

const settle = async (found: unknown) => await found;

for (const [name, make] of Object.entries(setups)) {
  describe(name, () => {
    test("a stored answer is found again byte for byte, by this replica and (once written) by another", async () => {
      const setup = make();
      let clock = 1_000_000;
      const now = () => clock;
      const one = await setup.replica(8, now);
      expect(await settle(one.get(keyFor("hello")))).toBeUndefined();
      one.set(keyFor("hello"), message("hello"), frames);
      const again = await settle(one.get(keyFor("hello")));
      expect(again).toMatchObject({ frames });
      await one.flush();
      const two = await setup.replica(8, now);
      const found = (await settle(two.get(keyFor("hello")))) as { message: Message; frames: CachedFrame[] } | undefined;
      // (With SQLite, the second cache over the same file is this process after a restart.)
      expect(JSON.stringify(found?.message)).toBe(JSON.stringify(message("hello")));
      expect(found?.frames).toEqual(frames);
      // Other content, or the same content in another scope, is a miss.
      expect(await settle(two.get(keyFor("hello!")))).toBeUndefined();
      expect(await settle(two.get(keyFor("hello", "other")))).toBeUndefined();
      clock += 60_001;
      expect(await settle(two.get(keyFor("hello")))).toBeUndefined();
    });

    test("at most PROMPT_CACHE_MAX_ENTRIES survive, the newest", async () => {
      const setup = make();
      let clock = 2_000_000;
      const now = () => clock;
      const one = await setup.replica(3, now);
      for (let i = 0; i < 5; i++) {
        one.set(keyFor(`n${i}`), message(`n${i}`), undefined);
        clock += 1;
        await Bun.sleep(5);
      }
      await one.flush();
      const two = await setup.replica(3, now);
      const hits: string[] = [];
      for (let i = 0; i < 5; i++) if (await settle(two.get(keyFor(`n${i}`)))) hits.push(`n${i}`);
      expect(hits).toEqual(["n2", "n3", "n4"]);
    });
  });
}

describe("redis", () => {
  test("an answer is shared at once, before the durable store has it; a too-large one is found through the durable store", async () => {
    const setup = setups["postgres + redis"]?.();
    if (!setup) throw new Error("setup missing");
    const now = Date.now;
    const one = await setup.replica(8, now);
    const two = await setup.replica(8, now);
    one.set(keyFor("fresh"), message("fresh"), frames);
    let shared: unknown;
    for (let i = 0; i < 100 && !shared; i++) {
      await Bun.sleep(10);
      shared = await settle(two.get(keyFor("fresh")));
    }
    expect(shared).toMatchObject({ frames });
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM prompt_cache`;
    expect(n).toBe(0);

    // Over the 4 KiB bound this setup gives Redis: only a marker goes there.
    const big = message("x".repeat(8192));
    one.set(keyFor("big"), big, undefined);
    const admin = new RedisClient(redis.url);
    const entryKeys = async () => ((await admin.send("KEYS", ["lynkr:prompt-cache:*"])) as string[]).filter((k) => !k.endsWith("index"));
    for (let i = 0; i < 100 && (await entryKeys()).length < 2; i++) await Bun.sleep(10);
    const values = await entryKeys();
    expect(values.length).toBe(2);
    for (const key of values) {
      const value = (await admin.send("GET", [key])) as string;
      expect(value.length).toBeLessThan(4096);
    }
    admin.close();
    const three = await setup.replica(8, now);
    expect(await settle(three.get(keyFor("big")))).toBeUndefined();
    await one.flush();
    const four = await setup.replica(8, now);
    expect(JSON.stringify(((await settle(four.get(keyFor("big")))) as { message: Message } | undefined)?.message)).toBe(JSON.stringify(big));
  });

  test("with Redis gone, lookups answer from the durable store and nothing throws", async () => {
    const link = await connectedLink();
    const durable: DurableEntries = new PostgresEntries(sql);
    const cache = new PromptCache({ durable, hot: new RedisEntries(link, 8) }, 60_000, 8, Date.now, 60_000);
    cache.set(keyFor("kept"), message("kept"), frames);
    await cache.flush();
    await redis.stop();
    try {
      const other = new PromptCache({ durable, hot: new RedisEntries(link, 8) }, 60_000, 8, Date.now, 60_000);
      // The first lookup may be the one that finds Redis gone: a miss, not an error.
      const first = await settle(other.get(keyFor("kept")));
      expect(first === undefined || typeof first === "object").toBe(true);
      for (let i = 0; i < 200 && link.up; i++) await Bun.sleep(10);
      expect(link.up).toBe(false);
      const found = await settle(other.get(keyFor("kept")));
      expect(found).toMatchObject({ frames });
      other.set(keyFor("while down"), message("while down"), undefined);
      expect(await settle(other.get(keyFor("while down")))).toBeDefined();
    } finally {
      await redis.start();
    }
  });
});

test("a broken durable store is a miss, never an error", async () => {
  const broken: DurableEntries = {
    find: () => Promise.reject(new Error("connection lost")),
    write: () => Promise.reject(new Error("connection lost")),
  };
  const cache = new PromptCache({ durable: broken }, 60_000, 8, Date.now, 60_000);
  expect(await settle(cache.get(keyFor("q")))).toBeUndefined();
  cache.set(keyFor("q"), message("q"), undefined);
  await cache.flush();
  expect(await settle(cache.get(keyFor("q")))).toBeDefined();
});

test("PostgreSQL away: a lookup is a miss, the next ones are misses at once for a while, and it answers again once back", async () => {
  let clock = Date.now();
  const entries = new PostgresEntries(sql, 1_000, () => clock);
  const cache = new PromptCache({ durable: entries }, 60_000, 8, Date.now, 60_000);
  cache.set(keyFor("durable"), message("durable"), frames);
  await cache.flush();
  await pg.stop();
  try {
    const other = new PromptCache({ durable: entries }, 60_000, 8, Date.now, 60_000);
    expect(await settle(other.get(keyFor("durable")))).toBeUndefined();
  } finally {
    await pg.start();
  }
  // Back, but resting: no query yet.
  const resting = new PromptCache({ durable: entries }, 60_000, 8, Date.now, 60_000);
  expect(await settle(resting.get(keyFor("durable")))).toBeUndefined();
  clock += 5_001;
  let found: unknown;
  for (let i = 0; i < 100 && !found; i++) {
    found = await settle(resting.get(keyFor("durable")));
    if (!found) await Bun.sleep(50);
  }
  expect(found).toMatchObject({ frames });
}, 60_000);

test("a PostgreSQL that hangs costs one lookup its bound, and the next ones nothing", async () => {
  let queries = 0;
  // Bun's SQL as the tier calls it: a tagged template whose query never settles.
  const hanging = (() => {
    queries++;
    return new Promise(() => {});
  }) as unknown as SQL;
  const entries = new PostgresEntries(hanging, 50);
  expect(await entries.find(keyFor("late"), Date.now())).toBeUndefined();
  expect(await entries.find(keyFor("late"), Date.now())).toBeUndefined();
  expect(queries).toBe(1);
});
