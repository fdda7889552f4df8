import { expect, test } from "bun:test";
import type { MessageParam, MessagesRequest } from "../../src/anthropic/schema.ts";
import { fromTheUser } from "../../src/memory/inject.ts";
import { MemoryService } from "../../src/memory/service.ts";
import { SqliteMemoryStore } from "../../src/memory/sqlite-store.ts";
import type { Memory } from "../../src/memory/store.ts";
import { openDatabase } from "../../src/store/db.ts";
import { conversationRoot } from "../../src/store/sessions.ts";
import { recordedSession, recordedSessionNames } from "../helpers/recorded-sessions.ts";

// Learning reads only what a turn added to its conversation. The reference is a gateway that
// has never seen the conversation, for every request (a fresh MemoryService each time): that
// is how every turn was read before, from its last answer on. The recorded Claude Code sessions
// must teach the same memories either way, and the same when their turns are spread over
// replicas that each see the conversation first mid-way. Where they differ is counting: the
// recorded compaction request is sent twice (the second time with one more paragraph), and the
// reference counted each of its statements twice.

const settings = { MEMORY_MAX_AGE_DAYS: 365, MEMORY_MAX_COUNT: 500, MEMORY_DECAY_HALF_LIFE: 30, MEMORY_MAX_TOKENS: 600 };

function freshService(store = new SqliteMemoryStore(openDatabase(":memory:"))): MemoryService {
  return new MemoryService(store, settings);
}

/** What was learnt (ids and counts aside: the order of storing is part of the comparison). */
async function learnt(memory: MemoryService): Promise<Pick<Memory, "scope" | "text" | "source" | "importance" | "createdAt">[]> {
  return (await memory.store.list()).map(({ scope, text, source, importance, createdAt }) => ({ scope, text, source, importance, createdAt }));
}

async function mentions(memory: MemoryService): Promise<Map<string, number>> {
  return new Map((await memory.store.list()).map((m) => [m.text, m.mentions]));
}

/**
 * The recording with a statement in every user message, at its index: each later request of the
 * conversation repeats it (histories only grow), so a full re-read would learn it again.
 */
function withStatements(request: MessagesRequest, session: string): MessagesRequest {
  // Named by conversation too: a compaction starts a new one, whose statements are new.
  const name = `${session}${conversationRoot(request.messages).slice(0, 6)}n`;
  const messages = request.messages.map((message, i): MessageParam => {
    if (message.role !== "user") return message;
    const said = { type: "text" as const, text: `Remember that ${name}${i} lives in src/${name}${i}/index.ts and is built with make ${name}${i}.` };
    return { ...message, content: typeof message.content === "string" ? [{ type: "text", text: message.content }, said] : [...message.content, said] };
  });
  return { ...request, messages };
}

/** The requests the gateway learns from (not subagents' nor side calls'), as the recordings have them. */
const sessions = recordedSessionNames.map((name) => ({
  name,
  requests: recordedSession(name)
    .filter((r) => fromTheUser(r.request, new Headers(r.headers)))
    .map((r) => withStatements(r.request, name)),
}));

/** Replays every session's requests in order; `pick` chooses the service that learns each one. */
async function replay(pick: (index: number) => MemoryService): Promise<void> {
  let n = 0;
  for (const { requests } of sessions) {
    for (const request of requests) await pick(n++).learnFrom(request, "client", 1000 + n);
  }
}

test("the recorded sessions teach the same memories when each turn reads only what it added, each counted once", async () => {
  const store = new SqliteMemoryStore(openDatabase(":memory:"));
  await replay(() => freshService(store));
  const reference = freshService(store);
  expect((await learnt(reference)).length).toBeGreaterThan(10);

  const incremental = freshService();
  await replay(() => incremental);
  expect(await learnt(incremental)).toEqual(await learnt(reference));
  expect([...(await mentions(incremental))].filter(([, n]) => n !== 1)).toEqual([]);
  // The reference counted again what the compaction requests repeat of the turn before them.
  const again = [...(await mentions(reference))].filter(([, n]) => n > 1).map(([text]) => text);
  expect(again.length).toBeGreaterThan(0);
  const compaction = recordedSession("compaction").map((r) => JSON.stringify(r.request.messages.at(-1)));
  for (const text of again) expect(compaction.filter((last) => last.includes(JSON.stringify(text).slice(1, -1))).length).toBeGreaterThan(1);
});

test("turns spread round-robin over three replicas (each seeing a conversation first mid-way) learn the same", async () => {
  const reference = freshService();
  await replay(() => reference);
  const store = new SqliteMemoryStore(openDatabase(":memory:"));
  const replicas = [freshService(store), freshService(store), freshService(store)];
  await replay((i) => replicas[i % 3] as MemoryService);
  expect(await learnt(replicas[0] as MemoryService)).toEqual(await learnt(reference));
});

const environment = { role: "system" as const, content: "# Environment\n - Primary working directory: /work/long\n - Is a git repository: false\n" };

/** A long conversation: `turns` user statements, each answered. */
function conversation(turns: number): MessageParam[] {
  const messages: MessageParam[] = [{ role: "user", content: "Let's start." }, environment];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: "assistant", content: [{ type: "text", text: `Done step ${i}.` }] });
    messages.push({ role: "user", content: `Always run make lint${i} before committing src/area${i}/main.ts` });
  }
  return messages;
}

/** The messages array, counting which indices are read. */
function counting(messages: MessageParam[]): { messages: MessageParam[]; read: Set<number> } {
  const read = new Set<number>();
  const proxy = new Proxy(messages, {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) read.add(Number(key));
      return Reflect.get(target, key, receiver);
    },
  });
  return { messages: proxy, read };
}

test("a turn of a long conversation reads its new messages and a bounded context, not the history", async () => {
  const memory = freshService();
  const history = conversation(300);
  for (let turns = 1; turns < 300; turns++) await memory.learnFrom({ messages: history.slice(0, 2 + 2 * turns) }, "client");
  const { messages, read } = counting(history);
  const outcomes = await memory.learnFrom({ messages }, "client");
  expect(outcomes.map((o) => o.kind)).toEqual(["stored"]);
  // The first message (what names the conversation), the last answer and the turn, and the
  // twenty messages before the answer that the surprise score compares with.
  expect(read.size).toBeLessThanOrEqual(1 + 2 + 21);
  expect([...read].filter((i) => i > 0 && i < history.length - 40)).toEqual([]);
  // The project came from the environment block, read once at the conversation's start.
  expect((await memory.store.list()).every((m) => m.scope === "project:/work/long")).toBe(true);
});

test("a turn sent again learns nothing twice, only what it says anew; a rewound (shorter) history is read afresh", async () => {
  const memory = freshService();
  const history = conversation(3);
  expect(await memory.learnFrom({ messages: history }, "client")).toHaveLength(1);
  expect(await memory.learnFrom({ messages: history }, "client")).toEqual([]);
  expect((await memory.store.list()).map((m) => m.mentions)).toEqual([1]);
  const last = history.at(-1) as MessageParam;
  const resent = [...history.slice(0, -1), { role: "user" as const, content: `${String(last.content)}\nThe staging database is called shop_staging_v2.` }];
  expect((await memory.learnFrom({ messages: resent }, "client")).map((o) => o.kind)).toEqual(["stored"]);
  expect((await memory.store.list()).map((m) => m.mentions)).toEqual([1, 1]);
  // Rewound to its second turn with another statement: learnt, though shorter than what was read.
  const rewound: MessageParam[] = [...history.slice(0, 5), { role: "user", content: "Never deploy from a laptop; use the CI pipeline in deploy.yml" }];
  expect((await memory.learnFrom({ messages: rewound }, "client")).map((o) => o.kind)).toEqual(["stored"]);
  // Another client's identical conversation is its own: read, and its statement merged (same project).
  expect((await memory.learnFrom({ messages: history }, "other")).map((o) => o.kind)).toEqual(["merged"]);
});
