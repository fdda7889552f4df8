import { RedisClient, type SQL } from "bun";
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { anthropicSse, chatChunk, chunkedResponse, jsonResponse, openAiSse, readWire, recordedAnthropicEvents, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { eventually } from "../helpers/eventually.ts";
import { launchTestGateway } from "../helpers/gateway.ts";
import { openPostgres } from "../../src/store/postgres/connect.ts";
import { postgresAreas } from "../../src/store/postgres/areas.ts";
import { startPostgresServer, type PostgresServer } from "../helpers/postgres-server.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";

// Three replicas (three gateways) sharing one real redis-server and one real PostgreSQL (or,
// for the prompt cache, Redis alone beside each one's SQLite), requests spread round-robin by
// the test: the prompt cache's answers and each conversation's
// upstream-facing state (tool order, prompt_cache_key, llama.cpp slot) are the same whichever
// replica a request lands on, and a lost Redis fails no request.

type Replica = Awaited<ReturnType<typeof launchTestGateway>>;

let redis: RedisServer;
let pg: PostgresServer;
let sql: SQL;
let upstream: FakeUpstream;
let recorded: string;
let replicas: Replica[] = [];
const recordedId = "msg_01Ju7oPaDmjgrhWq8gNP4AUj";
const whileAwayId = "msg_01StoredWhileRedisIsAway";

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedisServer(), startPostgresServer()]);
  sql = await openPostgres(pg.url, postgresAreas, { maxConnections: 2 });
  recorded = await readWire("upstream/anthropic/stream-text.sse");
  const toolUse = await recordedAnthropicEvents("stream-text-then-tool-use.chunks.txt");
  upstream = startFakeUpstream((req) => {
    if (req.url.pathname.endsWith("/chat/completions")) {
      const usage = { prompt_tokens: 20, completion_tokens: 1, total_tokens: 21 };
      return new Response(openAiSse([chatChunk({ role: "assistant", content: "ok" }), chatChunk({}, "stop"), chatChunk({}, null, { choices: [], usage })]).join(""), {
        headers: { "content-type": "text/event-stream" },
      });
    }
    if (req.url.pathname === "/props") return jsonResponse({ default_generation_settings: { n_ctx: 32_768 }, total_slots: 4 });
    if (JSON.stringify(req.json).includes("use a tool")) return chunkedResponse(anthropicSse(toolUse));
    // An answer of its own, to find in PostgreSQL by its id.
    if (JSON.stringify(req.json).includes("stored while redis is away")) return chunkedResponse(sseEvents(recorded.replaceAll(recordedId, whileAwayId)));
    return chunkedResponse(sseEvents(recorded));
  });
}, 60_000);

afterAll(async () => {
  await upstream?.stop();
  await sql?.close();
  await Promise.all([redis?.close(), pg?.close()]);
});

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.shutdown()));
  replicas = [];
  const admin = new RedisClient(redis.url);
  await admin.send("FLUSHALL", []);
  admin.close();
  await sql`TRUNCATE prompt_cache`;
});

async function sharedUp(replica: Replica): Promise<boolean> {
  const res = await fetch(`${replica.url}/health/ready`);
  const body = (await res.json()) as { checks: Record<string, string> };
  return body.checks.shared_state === "ok";
}

/** Three replicas on Redis and, unless `sqlite`, PostgreSQL. */
async function startReplicas(env: Record<string, string>, sqlite = false): Promise<[Replica, Replica, Replica]> {
  const database: Record<string, string> = sqlite ? {} : { LYNKR_DATABASE_URL: pg.url };
  replicas = await Promise.all([0, 1, 2].map(() => launchTestGateway({ LYNKR_REDIS_URL: redis.url, API_RETRY_MAX_RETRIES: "0", ...database, ...env })));
  for (const replica of replicas) expect(await eventually(() => sharedUp(replica), 10_000)).toBe(true);
  return replicas as [Replica, Replica, Replica];
}

const anthropicEnv = () => ({ ANTHROPIC_UPSTREAM_URL: upstream.url, PROMPT_CACHE_ENABLED: "true" });

function post(replica: Replica, payload: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${replica.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k", "anthropic-version": "2023-06-01", ...headers },
    body: JSON.stringify(payload),
  });
}

const prompt = (content: string, stream: boolean) => ({ model: "claude-3-opus-20240229", max_tokens: 64, stream, messages: [{ role: "user", content }] });

/** Entries (not the index) the replicas put in Redis's prompt cache. */
async function redisEntries(): Promise<number> {
  const admin = new RedisClient(redis.url);
  try {
    const keys = (await admin.send("KEYS", ["lynkr:prompt-cache:*"])) as string[];
    return keys.filter((key) => !key.endsWith(":index")).length;
  } finally {
    admin.close();
  }
}

for (const [name, sqlite] of [["PostgreSQL", false], ["SQLite each", true]] as const) {
  test(`an answer cached on replica 1 is replayed byte for byte by replicas 2 and 3, without calling the upstream (Redis, ${name})`, async () => {
    const [one, two, three] = await startReplicas(anthropicEnv(), sqlite);
    const before = upstream.received.length;
    const original = await post(one, prompt("shared count", true));
    expect(original.headers.get("x-lynkr-cache")).toBe(null);
    const originalText = await original.text();
    expect(originalText).toBe(recorded);
    // Stored once the answer is out, in the background.
    expect(await eventually(async () => (await redisEntries()) === 1, 5_000)).toBe(true);

    const hit = await post(two, prompt("shared count", true));
    expect(hit.headers.get("x-lynkr-cache")).toBe("hit");
    expect(await hit.text()).toBe(originalText);
    // As JSON on the third: the same message (its id is the first answer's).
    const json = await post(three, prompt("shared count", false));
    expect(json.headers.get("x-lynkr-cache")).toBe("hit");
    const message = (await json.json()) as { id: string; content: { text?: string }[] };
    expect(message.content.map((block) => block.text)).toEqual(["1\n2\n3\n4\n5"]);
    expect(originalText).toContain(message.id);
    expect(upstream.received.length - before).toBe(1);

    // Another credential is still another scope on every replica; tool calls are still not cached.
    const other = await post(two, prompt("shared count", true), { authorization: "Bearer other" });
    expect(other.headers.get("x-lynkr-cache")).toBe(null);
    await other.text();
    for (const replica of [one, two]) await (await post(replica, prompt("please use a tool", true))).text();
    expect(upstream.received.length - before).toBe(4);
  });
}

test("a conversation's tool order stays sticky, and its prompt_cache_key the same, when its requests go round-robin", async () => {
  const three = await startReplicas({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`, OPENAI_PROMPT_CACHE_KEY: "on" });
  const tool = (name: string) => ({ name, description: `the ${name} tool`, input_schema: { type: "object", properties: {} } });
  // Claude Code loads deferred tools mid-conversation; it sends them in sorted position.
  const turns = [["Alpha", "Charlie"], ["Alpha", "Bravo", "Charlie"], ["Alpha", "Bravo", "Charlie", "Delta"], ["Alpha", "Bravo", "Charlie", "Delta"], ["Alpha", "Bravo", "Charlie", "Delta", "Echo"], ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]];
  const before = upstream.received.length;
  const reports: (string | null)[] = [];
  for (const [i, names] of turns.entries()) {
    const res = await post(three[i % 3] as Replica, { ...prompt(`turn ${i}`, true), tools: names.map(tool) }, { "x-claude-code-session-id": "round-robin-session" });
    expect(res.status).toBe(200);
    reports.push(res.headers.get("x-lynkr-optimize"));
    await res.text();
  }
  // Replica 2 moved Bravo (it had never seen this conversation itself).
  expect(reports[1]).toContain("tool-order=sticky");
  const sent = upstream.received.slice(before).map((r) => r.json as { tools: { function: { name: string } }[]; prompt_cache_key?: string });
  expect(sent.map((body) => body.tools.map((t) => t.function.name).join(","))).toEqual([
    "Alpha,Charlie",
    "Alpha,Charlie,Bravo",
    "Alpha,Charlie,Bravo,Delta",
    "Alpha,Charlie,Bravo,Delta",
    "Alpha,Charlie,Bravo,Delta,Echo",
    "Alpha,Charlie,Bravo,Delta,Echo",
  ]);
  // Derived from the conversation, not the replica.
  expect(new Set(sent.map((body) => body.prompt_cache_key))).toEqual(new Set(["round-robin-session"]));
});

test("llama.cpp: each conversation keeps its id_slot whichever replica its request lands on", async () => {
  const three = await startReplicas({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: upstream.url, LLAMACPP_SLOTS: "4" });
  const before = upstream.received.length;
  // Replica by replica (i % 3), so that each replica's own memory would give other slots.
  const order = ["a", "b", "c", "b", "c", "a", "c", "a", "b"];
  for (const [i, session] of order.entries()) {
    const res = await post(three[i % 3] as Replica, prompt(`slot turn ${i}`, true), { "x-claude-code-session-id": session });
    expect(res.status).toBe(200);
    await res.text();
  }
  const slots = upstream.received
    .slice(before)
    .filter((r) => r.url.pathname.endsWith("/chat/completions"))
    .map((r) => (r.json as { id_slot?: number }).id_slot);
  // Each keeps one slot, and the three new conversations took three slots: on each replica the
  // slot idle longest across the fleet, not the one idle longest on that replica (slot 0 each time).
  expect(slots).toEqual([0, 1, 2, 1, 2, 0, 2, 0, 1]);
});

test("Redis stopped mid-run: every request still succeeds (from each replica's own state), and the replicas reconnect by themselves", async () => {
  const three = await startReplicas(anthropicEnv());
  let sent = 0;
  const round = async (label: string) => {
    for (let i = 0; i < 6; i++) {
      const res = await post(three[i % 3] as Replica, prompt(`${label} ${i % 2}`, i % 2 === 0), { "x-claude-code-session-id": `lost-${i % 2}` });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("end_turn");
      sent++;
    }
  };
  await round("before");
  await redis.stop();
  try {
    await round("while down");
    // Each replica notices (a failed command, a closed connection) and says so, degraded not down.
    for (const replica of three) expect(await eventually(async () => !(await sharedUp(replica)), 5_000)).toBe(true);
    await round("down and known");
    // Meanwhile answers are shared through PostgreSQL: one stored by replica 1 (written within
    // a second) is replayed by replica 2.
    const [one, two] = three;
    const original = await (await post(one, prompt("stored while redis is away", true))).text();
    expect(original).toContain(whileAwayId);
    const pattern = `%${whileAwayId}%`;
    expect(await eventually(async () => (await sql`SELECT key FROM prompt_cache WHERE entry LIKE ${pattern}`).length === 1, 5_000)).toBe(true);
    const hit = await post(two, prompt("stored while redis is away", true));
    expect(hit.headers.get("x-lynkr-cache")).toBe("hit");
    expect(await hit.text()).toBe(original);
  } finally {
    await redis.start();
  }
  for (const replica of three) expect(await eventually(() => sharedUp(replica), 10_000)).toBe(true);
  await round("after");
  expect(sent).toBe(24);
});

test("Claude Code to Anthropic under OPTIMIZE_PROFILE=auto reads and writes no conversation state (nothing would use it), unless a request asks for a profile", async () => {
  const [one] = await startReplicas(anthropicEnv());
  const conversationKeys = async () => {
    const admin = new RedisClient(redis.url);
    try {
      return ((await admin.send("KEYS", ["lynkr:conversation*"])) as string[]).length;
    } finally {
      admin.close();
    }
  };
  await (await post(one, prompt("no state needed", true), { "x-claude-code-session-id": "anthropic-session" })).text();
  await Bun.sleep(100);
  expect(await conversationKeys()).toBe(0);
  await (await post(one, prompt("a profile asked for", true), { "x-claude-code-session-id": "anthropic-session", "x-lynkr-optimize": "full" })).text();
  expect(await eventually(async () => (await conversationKeys()) === 1, 5_000)).toBe(true);
});
