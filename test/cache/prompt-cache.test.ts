import Anthropic from "@anthropic-ai/sdk";
import { Database } from "bun:sqlite";
import { RedisClient, type SQL } from "bun";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PromptKey } from "../../src/cache/key.ts";
import { anthropicSse, chunkedResponse, readWire, recordedAnthropicEvents, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { launchTestGateway, tempDir } from "../helpers/gateway.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { startPostgresServer, type PostgresServer } from "../helpers/postgres-server.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";

// The gateway's prompt cache over each of its backends, against the real servers: SQLite
// alone, PostgreSQL (LYNKR_DATABASE_URL), PostgreSQL + Redis (LYNKR_REDIS_URL).

let upstream: FakeUpstream;
let recorded: string;
let pg: PostgresServer;
let redis: RedisServer;
let sql: SQL;

beforeAll(async () => {
  recorded = await readWire("upstream/anthropic/stream-text.sse");
  const toolUse = await recordedAnthropicEvents("stream-text-then-tool-use.chunks.txt");
  upstream = startFakeUpstream((req) => {
    const text = JSON.stringify(req.json);
    if (text.includes("use a tool")) return chunkedResponse(anthropicSse(toolUse));
    return chunkedResponse(sseEvents(recorded));
  });
  [pg, redis] = await Promise.all([startPostgresServer(), startRedisServer()]);
  sql = await openPostgres(pg.url, postgresAreas, { maxConnections: 2 });
}, 60_000);
afterAll(async () => {
  await upstream.stop();
  await sql?.close();
  await Promise.all([pg?.close(), redis?.close()]);
});

interface Backend {
  env(): Record<string, string>;
  /** Everything the backend's shared stores hold of the cache, as text (after the gateway flushed). */
  shared(): Promise<string>;
}

async function redisValues(): Promise<string[]> {
  const admin = new RedisClient(redis.url);
  try {
    const keys = (await admin.send("KEYS", ["lynkr:prompt-cache:*"])) as string[];
    return await Promise.all(keys.map(async (key) => String(await admin.send(key.endsWith(":index") ? "ZRANGE" : "GET", key.endsWith(":index") ? [key, "0", "-1"] : [key]))));
  } finally {
    admin.close();
  }
}

const postgresRows = async () => JSON.stringify(await sql`SELECT key, entry FROM prompt_cache`);

const backends: Record<string, Backend> = {
  sqlite: { env: () => ({}), shared: async () => "" },
  postgres: { env: () => ({ LYNKR_DATABASE_URL: pg.url }), shared: postgresRows },
  "postgres + redis": {
    env: () => ({ LYNKR_DATABASE_URL: pg.url, LYNKR_REDIS_URL: redis.url }),
    shared: async () => `${await postgresRows()}${(await redisValues()).join("")}`,
  },
};

const body = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "claude-3-opus-20240229",
  max_tokens: 64,
  messages: [{ role: "user", content }],
  ...extra,
});
// The same credential the SDK clients below send (apiKey "k" goes as a bearer token): in
// pass-through it is part of the cache's scope.
const post = (url: string, payload: unknown, headers: Record<string, string> = {}, query = "") =>
  fetch(`${url}/v1/messages${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k", ...headers },
    body: JSON.stringify(payload),
  });

/** The backend of the test that runs (SQLite outside the backends' describes). */
let backendEnv: () => Record<string, string> = () => ({});
beforeEach(() => {
  backendEnv = () => ({});
});

function cachedGateway(env: Record<string, string> = {}) {
  return launchTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, PROMPT_CACHE_ENABLED: "true", ...backendEnv(), ...env });
}

for (const [name, backend] of Object.entries(backends)) {
  describe(name, () => {
    beforeEach(async () => {
      backendEnv = backend.env;
      await sql`TRUNCATE prompt_cache`;
      const admin = new RedisClient(redis.url);
      await admin.send("FLUSHALL", []);
      admin.close();
    });

    test("a streamed hit is byte-identical to the original stream, marked x-lynkr-cache: hit, without calling the upstream", async () => {
      const gateway = await cachedGateway();
      try {
        const before = upstream.received.length;
        const original = await post(gateway.url, body("count", { stream: true }));
        expect(original.headers.get("x-lynkr-cache")).toBeNull();
        const originalText = await original.text();
        expect(originalText).toBe(recorded);
        await Bun.sleep(20);

        const hit = await post(gateway.url, body("count", { stream: true }));
        expect(hit.status).toBe(200);
        expect(hit.headers.get("x-lynkr-cache")).toBe("hit");
        expect(hit.headers.get("content-type")).toStartWith("text/event-stream");
        expect(await hit.text()).toBe(originalText);
        expect(upstream.received.length - before).toBe(1);

        // The same answer as JSON, for a client that does not stream.
        const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
        const { data, response } = await client.messages.create(body("count") as Anthropic.MessageCreateParamsNonStreaming).withResponse();
        expect(response.headers.get("x-lynkr-cache")).toBe("hit");
        expect(data.content.map((b) => (b.type === "text" ? b.text : ""))).toEqual(["1\n2\n3\n4\n5"]);
        expect(upstream.received.length - before).toBe(1);

        await Bun.sleep(20);
        const metrics = (await (await fetch(`${gateway.url}/metrics/observability`)).json()) as { cache: { hit: number; miss: number; saved_tokens: number; saved_usd: number } };
        expect(metrics.cache).toMatchObject({ hit: 2, miss: 1, saved_tokens: 56, saved_usd: 0.0024 });
      } finally {
        await gateway.shutdown();
      }
    });

    test("a JSON answer replays as identical JSON, and as a valid stream to a streaming client", async () => {
      const gateway = await cachedGateway();
      try {
        const original = await post(gateway.url, body("json first"));
        const originalText = await original.text();
        await Bun.sleep(20);
        const hit = await post(gateway.url, body("json first"));
        expect(hit.headers.get("x-lynkr-cache")).toBe("hit");
        expect(await hit.text()).toBe(originalText);

        const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
        const streamed = await client.messages.stream(body("json first") as Anthropic.MessageCreateParamsNonStreaming).finalMessage();
        const message = JSON.parse(originalText) as Anthropic.Message;
        const text = (m: Anthropic.Message) => m.content.map((block) => (block.type === "text" ? block.text : block.type));
        expect({ id: streamed.id, text: text(streamed), stop_reason: streamed.stop_reason, usage: streamed.usage }).toEqual({
          id: message.id,
          text: text(message),
          stop_reason: message.stop_reason,
          usage: message.usage,
        });
      } finally {
        await gateway.shutdown();
      }
    });

    test("turns that call tools are not cached", async () => {
      const gateway = await cachedGateway();
      try {
        const before = upstream.received.length;
        for (let i = 0; i < 2; i++) {
          const res = await post(gateway.url, body("please use a tool", { stream: true }));
          expect(res.headers.get("x-lynkr-cache")).toBeNull();
          await res.text();
          await Bun.sleep(20);
        }
        expect(upstream.received.length - before).toBe(2);
      } finally {
        await gateway.shutdown();
      }
    });

    test("entries survive a restart, expire after PROMPT_CACHE_TTL_MS, and differ by sampling parameters", async () => {
      const dbPath = join(tempDir(), "lynkr.db");
      let gateway = await cachedGateway({ SESSION_DB_PATH: dbPath, PROMPT_CACHE_TTL_MS: "1500" });
      const before = upstream.received.length;
      try {
        await (await post(gateway.url, body("persist"))).text();
        await Bun.sleep(20);
      } finally {
        await gateway.shutdown();
      }
      gateway = await cachedGateway({ SESSION_DB_PATH: dbPath, PROMPT_CACHE_TTL_MS: "1500" });
      try {
        expect((await post(gateway.url, body("persist"))).headers.get("x-lynkr-cache")).toBe("hit");
        expect((await post(gateway.url, body("persist", { temperature: 0.2 }))).headers.get("x-lynkr-cache")).toBeNull();
        expect(upstream.received.length - before).toBe(2);
        await Bun.sleep(1600);
        expect((await post(gateway.url, body("persist"))).headers.get("x-lynkr-cache")).toBeNull();
        expect(upstream.received.length - before).toBe(3);
      } finally {
        await gateway.shutdown();
      }
    });

    test("requests that differ only before their last message never share an answer", async () => {
      const gateway = await cachedGateway();
      try {
        const before = upstream.received.length;
        const turn = (first: string) => ({
          model: "claude-3-opus-20240229",
          max_tokens: 64,
          messages: [
            { role: "user", content: first },
            { role: "assistant", content: "ok" },
            { role: "user", content: "and now?" },
          ],
        });
        await (await post(gateway.url, turn("about cats"))).text();
        await Bun.sleep(20);
        const other = await post(gateway.url, turn("about dogs"));
        expect(other.headers.get("x-lynkr-cache")).toBeNull();
        await other.text();
        await Bun.sleep(20);
        expect((await post(gateway.url, turn("about cats"))).headers.get("x-lynkr-cache")).toBe("hit");
        expect(upstream.received.length - before).toBe(2);
      } finally {
        await gateway.shutdown();
      }
    });

    test("pass-through: another credential, anthropic-beta or query string is never served the first one's answer", async () => {
      const gateway = await cachedGateway();
      try {
        const before = upstream.received.length;
        const ask = async (headers: Record<string, string>, query = "") => {
          const res = await post(gateway.url, body("scope"), headers, query);
          await res.text();
          await Bun.sleep(20);
          return res.headers.get("x-lynkr-cache");
        };
        expect(await ask({ "x-api-key": "sk-ant-good-key-1111" })).toBeNull();
        expect(await ask({ "x-api-key": "sk-ant-good-key-1111" })).toBe("hit");
        expect(await ask({ "x-api-key": "sk-ant-bogus-key-2222" })).toBeNull();
        expect(await ask({ authorization: "Bearer sk-ant-oat-3333" })).toBeNull();
        expect(await ask({ "x-api-key": "sk-ant-good-key-1111", "anthropic-beta": "context-1m-2025-08-07" })).toBeNull();
        expect(await ask({ "x-api-key": "sk-ant-good-key-1111" }, "?beta=true")).toBeNull();
        expect(upstream.received.length - before).toBe(5);
        // The cache holds a hash of the credential, never the credential: on disk, in PostgreSQL, in Redis.
        await gateway.gateway.promptCache?.flush();
        const rows = gateway.gateway.db.query<{ key: string; entry: string }, []>("SELECT key, entry FROM prompt_cache").all();
        const shared = await backend.shared();
        // A backend that shares entries does hold these five answers.
        if (name !== "sqlite") expect(shared.match(/msg_01Ju7oPaDmjgrhWq8gNP4AUj/g)?.length ?? 0).toBeGreaterThanOrEqual(5);
        expect(JSON.stringify(rows) + shared).not.toContain("sk-ant-good-key-1111");
      } finally {
        await gateway.shutdown();
      }
    });

    test("x-lynkr-cache: bypass and cache-control: no-cache get a fresh answer from the upstream", async () => {
      const gateway = await cachedGateway();
      try {
        const first = await post(gateway.url, body("fresh please"));
        await first.text();
        const before = upstream.received.length;
        for (const headers of [{ "x-lynkr-cache": "bypass" }, { "cache-control": "no-cache" }] as Record<string, string>[]) {
          // The same credential as the cached answer: only the bypass keeps it from being served.
          const res = await post(gateway.url, body("fresh please"), headers);
          expect(res.status).toBe(200);
          expect(res.headers.get("x-lynkr-cache")).toBe("bypass");
          await res.text();
        }
        expect(upstream.received.length - before).toBe(2);
        const hit = await post(gateway.url, body("fresh please"));
        expect(hit.headers.get("x-lynkr-cache")).toBe("hit");
        await hit.text();
        expect(upstream.received.length - before).toBe(2);
      } finally {
        await gateway.shutdown();
      }
    });
  });
}

test("unreadable rows on disk do not stop a restart, and the readable entries still answer", async () => {
  const dbPath = join(tempDir(), "lynkr.db");
  let gateway = await cachedGateway({ SESSION_DB_PATH: dbPath });
  try {
    await (await post(gateway.url, body("survives a bad neighbour"))).text();
    await Bun.sleep(20);
  } finally {
    await gateway.shutdown();
  }
  const db = new Database(dbPath);
  const insert = db.query("INSERT INTO prompt_cache (key, created_at, expires_at, entry) VALUES (?, ?, ?, ?)");
  const later = Date.now() + 60_000;
  insert.run("not-json", Date.now(), later, "{cut short");
  insert.run("no-fingerprint", Date.now(), later, JSON.stringify({ message: {} }));
  db.close();
  gateway = await cachedGateway({ SESSION_DB_PATH: dbPath });
  try {
    const before = upstream.received.length;
    expect((await post(gateway.url, body("survives a bad neighbour"))).headers.get("x-lynkr-cache")).toBe("hit");
    expect(upstream.received.length - before).toBe(0);
  } finally {
    await gateway.shutdown();
  }
});

test("PROMPT_CACHE_ENABLED=false always calls the upstream", async () => {
  const gateway = await cachedGateway({ PROMPT_CACHE_ENABLED: "false" });
  try {
    const before = upstream.received.length;
    for (let i = 0; i < 2; i++) await (await post(gateway.url, body("off"))).text();
    expect(upstream.received.length - before).toBe(2);
  } finally {
    await gateway.shutdown();
  }
});

test("the key ignores stream and metadata (per-session ids), not content or scope", () => {
  const a = { model: "m", max_tokens: 5, messages: [{ role: "user" as const, content: "x" }], stream: true };
  const b = { model: "m", max_tokens: 5, messages: [{ role: "user" as const, content: "x" }], metadata: { user_id: "u" } };
  expect(new PromptKey(a, "s").key()).toBe(new PromptKey(b, "s").key());
  expect(new PromptKey(a, "s").key()).toMatch(/^[0-9a-f]{64}$/);
  expect(new PromptKey({ ...a, max_tokens: 6 }, "s").key()).not.toBe(new PromptKey(a, "s").key());
  expect(new PromptKey(a, "other key").key()).not.toBe(new PromptKey(a, "s").key());
});

test("from the bytes the client sent: two sessions and both stream modes share a key, other content does not", () => {
  const sent = (session: string, stream: boolean, text = "x") => {
    const body = { model: "m", max_tokens: 5, metadata: { user_id: JSON.stringify({ session_id: session }) }, messages: [{ role: "user" as const, content: text }], stream };
    return { body, text: JSON.stringify(body) };
  };
  const one = sent("s1", true);
  const two = sent("s2", false);
  expect(new PromptKey(one.body, "s", one.text).key()).toBe(new PromptKey(two.body, "s", two.text).key());
  // The cheap fingerprint that settles most misses agrees with the key, wherever the cuts fell.
  expect(new PromptKey(one.body, "s", one.text).fingerprint()).toBe(new PromptKey(two.body, "s", two.text).fingerprint());
  expect(new PromptKey(sent("s1", true, "y").body, "s", sent("s1", true, "y").text).fingerprint()).not.toBe(
    new PromptKey(one.body, "s", one.text).fingerprint(),
  );
  const { stream: _, metadata: __, ...bare } = one.body;
  expect(new PromptKey(bare, "s", JSON.stringify(bare)).key()).toBe(new PromptKey(one.body, "s", one.text).key());
  expect(new PromptKey(bare, "s", JSON.stringify(bare)).fingerprint()).toBe(new PromptKey(one.body, "s", one.text).fingerprint());
  // Members next to each other, first or last, cut cleanly wherever they stand.
  const first = { metadata: one.body.metadata, stream: true, ...bare };
  const last = { ...bare, stream: false, metadata: { user_id: "other" } };
  expect(new PromptKey(first, "s", JSON.stringify(first)).key()).toBe(new PromptKey(bare, "s", JSON.stringify(bare)).key());
  expect(new PromptKey(last, "s", JSON.stringify(last)).key()).toBe(new PromptKey(bare, "s", JSON.stringify(bare)).key());
  const other = sent("s1", true, "y");
  expect(new PromptKey(other.body, "s", other.text).key()).not.toBe(new PromptKey(one.body, "s", one.text).key());
  expect(new PromptKey(one.body, "t", one.text).key()).not.toBe(new PromptKey(one.body, "s", one.text).key());
  // Bytes where metadata can't be cut exactly (pretty-printed): the key falls back to the fields,
  // which still ignore metadata and stream.
  const pretty = JSON.stringify(two.body, null, 2);
  expect(new PromptKey(two.body, "s", pretty).key()).toBe(new PromptKey(one.body, "s").key());
});
