import { RedisClient } from "bun";
import { expect, test } from "bun:test";
import type { MessagesRequest, Tool } from "../../src/anthropic/schema.ts";
import { Optimizer, type OptimizeContext } from "../../src/optimize/index.ts";
import { SlotAssigner } from "../../src/providers/openai-chat/llamacpp-slots.ts";
import { RedisConversations } from "../../src/shared-state/redis-conversations.ts";
import { redisForTests } from "../helpers/redis-server.ts";

// Per-conversation state that replicas share through a real redis-server: the optimizer's
// sticky tool order and profile, and llama.cpp's slot. Each "replica" is its own Optimizer or
// SlotAssigner (its own in-process state) over its own link.

const redis = redisForTests();

const optimizer = () => new Optimizer({ profile: "auto", disabled: [], smallWindowTokens: 16_000, clearTrigger: 0.85, clearTarget: 0.5, keepToolResults: 1, maxSessions: 100 });
const tool = (name: string): Tool => ({ name, description: name, input_schema: { type: "object" } });
const request = (...tools: string[]): MessagesRequest => ({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }], tools: tools.map(tool) });
const names = (r: MessagesRequest) => (r.tools ?? []).map((t) => t.name);

async function optimizeOn(replica: { optimizer: Optimizer; store: RedisConversations }, conversation: string, r: MessagesRequest, contextWindow?: number) {
  const { record, ready } = replica.store.open(conversation);
  await ready;
  const ctx: OptimizeContext = { thread: conversation, header: undefined, target: { anthropicWire: false, model: "m", contextWindow }, shared: record };
  const out = replica.optimizer.optimize(r, ctx);
  // Writes go out in the background; the next request (another replica) comes after them.
  await Bun.sleep(30);
  return out;
}

test("a conversation's tool order and profile stay the same whichever replica its requests land on", async () => {
  const replicas = await Promise.all([0, 1, 2].map(async () => ({ optimizer: optimizer(), store: new RedisConversations(await redis.link()) })));
  const [one, two, three] = replicas as [(typeof replicas)[0], (typeof replicas)[0], (typeof replicas)[0]];
  // The first request decides the profile: a small window makes it "small".
  expect((await optimizeOn(one, "s1", request("Alpha", "Charlie"), 8_000)).report.profile).toBe("small");
  // Bravo arrives in sorted position on another replica: it goes last, where replica one would put it.
  const second = await optimizeOn(two, "s1", request("Alpha", "Bravo", "Charlie"));
  expect(names(second.request)).toEqual(["Alpha", "Charlie", "Bravo"]);
  expect(second.report.profile).toBe("small");
  const third = await optimizeOn(three, "s1", request("Alpha", "Bravo", "Charlie", "Delta"));
  expect(names(third.request)).toEqual(["Alpha", "Charlie", "Bravo", "Delta"]);
  // Back on replica one, whose own memory is older than the shared state: the shared one wins.
  expect(names((await optimizeOn(one, "s1", request("Alpha", "Bravo", "Charlie", "Delta"))).request)).toEqual(["Alpha", "Charlie", "Bravo", "Delta"]);
  // Another conversation is not affected.
  expect(names((await optimizeOn(two, "s2", request("Alpha", "Bravo", "Charlie"))).request)).toEqual(["Alpha", "Bravo", "Charlie"]);
});

test("the record is bounded and expires; a malformed shared state is ignored for the replica's own", async () => {
  const link = await redis.link();
  const replica = { optimizer: optimizer(), store: new RedisConversations(link, 60_000) };
  await optimizeOn(replica, "bounded", request("Alpha", "Charlie"));
  const admin = new RedisClient(redis.server().url);
  try {
    const keys = (await admin.send("KEYS", ["lynkr:conversation:*"])) as string[];
    // The client's conversation id is not the key (hashed), and every record expires.
    expect(keys.every((key) => /^lynkr:conversation:[0-9a-f]{64}$/.test(key))).toBe(true);
    for (const key of keys) expect(Number(await admin.send("PTTL", [key]))).toBeGreaterThan(0);
    for (const key of keys) await admin.send("HSET", [key, "optimize", JSON.stringify({ profile: "full", toolOrder: "nope", at: Date.now() + 1e9 })]);
  } finally {
    admin.close();
  }
  expect(names((await optimizeOn(replica, "bounded", request("Alpha", "Bravo", "Charlie"))).request)).toEqual(["Alpha", "Charlie", "Bravo"]);
});

test("llama.cpp: a conversation keeps its slot on every replica", async () => {
  const stores = [new RedisConversations(await redis.link()), new RedisConversations(await redis.link())] as const;
  const slots = [new SlotAssigner(4, { field: "llamacpp-slot:llama" }), new SlotAssigner(4, { field: "llamacpp-slot:llama" })] as const;
  const slotOn = async (i: 0 | 1, conversation: string) => {
    const { record, ready } = stores[i].open(conversation);
    await ready;
    const slot = slots[i].slotFor(conversation, record);
    await Bun.sleep(30);
    return slot;
  };
  // Replica 0 gives a, b, c slots 0, 1, 2; replica 1 has seen none of them.
  expect([await slotOn(0, "a"), await slotOn(0, "b"), await slotOn(0, "c")]).toEqual([0, 1, 2]);
  expect([await slotOn(1, "c"), await slotOn(1, "b"), await slotOn(1, "a")]).toEqual([2, 1, 0]);
  // A new conversation on replica 1 takes the slot no replica used yet, then the one idle longest (c's).
  expect(await slotOn(1, "d")).toBe(3);
  expect(await slotOn(0, "e")).toBe(2);
  // A slot beyond this server's count (a record from before LLAMACPP_SLOTS shrank) is not
  // taken: c gets the one of the two idle longest (b's 1, used before a's 0).
  const narrow = new SlotAssigner(2, { field: "llamacpp-slot:llama" });
  const { record, ready } = stores[0].open("c");
  await ready;
  expect(narrow.slotFor("c", record)).toBe(1);
});

test("with Redis gone the record reads empty at once, writes are dropped, and each replica keeps its own state", async () => {
  const server = redis.server();
  const link = await redis.link();
  const replica = { optimizer: optimizer(), store: new RedisConversations(link) };
  await optimizeOn(replica, "lost", request("Alpha", "Charlie"));
  await server.stop();
  try {
    for (let i = 0; i < 200 && link.up; i++) {
      // Any command finds the connection closed.
      await link.send("PING", []).catch(() => {});
      await Bun.sleep(10);
    }
    expect(link.up).toBe(false);
    const out = await optimizeOn(replica, "lost", request("Alpha", "Bravo", "Charlie"));
    expect(names(out.request)).toEqual(["Alpha", "Charlie", "Bravo"]);
  } finally {
    await server.start();
  }
});
