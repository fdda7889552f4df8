import { describe, expect, test } from "bun:test";
import { MemoryService } from "../../src/memory/service.ts";
import { surprise, surpriseThreshold } from "../../src/memory/surprise.ts";
import { MemoryMetrics } from "../../src/observability/metrics/memory-metrics.ts";
import { Registry } from "../../src/observability/metrics/registry.ts";
import { memoryBackends } from "../helpers/memory-stores.ts";

const settings = { MEMORY_MAX_AGE_DAYS: 30, MEMORY_MAX_COUNT: 50, MEMORY_DECAY_HALF_LIFE: 10, MEMORY_MAX_TOKENS: 600 };
const day = 86_400_000;
const scope = "project:/work/a";

test("the surprise gate keeps specific, stressed statements and drops vague restatements of the topic", () => {
  const specific = surprise("Never edit src/generated/*.ts by hand: run `make gen`", [], "");
  expect(specific.score).toBeGreaterThanOrEqual(surpriseThreshold);
  const vague = surprise("we should look at it", [{ keywords: ["look"], stance: { affirms: [["look"]], negates: [] } }], "let us look at it");
  expect(vague.score).toBeLessThan(surpriseThreshold);
});

for (const backend of memoryBackends()) {
  describe(backend.name, () => {
    async function service(overrides: Partial<typeof settings> = {}) {
      const registry = new Registry();
      const memory = new MemoryService(await backend.fresh(), { ...settings, ...overrides }, new MemoryMetrics(registry));
      const counted = (event: string) => {
        const metric = registry.all().find((m) => m.name === "lynkr_memory_events_total");
        return metric?.type === "counter" ? metric.get({ event }) : 0;
      };
      return { memory, counted };
    }
    const texts = async (memory: MemoryService, of = scope) => (await memory.store.list(of)).map((m) => m.text);

    test("a contradiction supersedes: 'use npm' after 'never npm' leaves one memory, the newer", async () => {
      const { memory, counted } = await service();
      await memory.store.learn(scope, "In this repo we always use pnpm, never npm", "user", { now: 1 });
      const outcome = await memory.store.learn(scope, "Actually, use npm from now on", "user", { now: 2 });
      expect(outcome.kind).toBe("stored");
      expect(await texts(memory)).toEqual(["Actually, use npm from now on"]);
      await memory.add(scope, "Never use npm here");
      expect(await texts(memory)).toEqual(["Never use npm here"]);
      expect(counted("superseded")).toBe(1);
    });

    test("near-duplicates merge: the newer wording wins and mentions add up", async () => {
      const { memory, counted } = await service();
      await memory.store.learn(scope, "We always use pnpm, never npm", "user", { now: 1 });
      const outcome = await memory.add(scope, "Always use pnpm and never npm!", 2);
      expect(outcome.kind).toBe("merged");
      const [only, ...rest] = await memory.store.list(scope);
      expect(rest).toEqual([]);
      expect(only?.text).toBe("Always use pnpm and never npm!");
      expect(only?.mentions).toBe(2);
      expect(only?.importance).toBe(1);
      expect(counted("merged")).toBe(1);
      // Search finds the new wording, not the old one.
      expect((await memory.store.matching([scope], ["pnpm"], 10)).map((r) => r.memory.text)).toEqual(["Always use pnpm and never npm!"]);
    });

    test("a short memory is not swallowed by a longer statement that merely names the same tool", async () => {
      const { memory } = await service();
      await memory.add(scope, "Use npm");
      await memory.add(scope, "npm scripts live in package.json under scripts");
      expect(await memory.store.list(scope)).toHaveLength(2);
    });

    test("memories stay in their scope", async () => {
      const { memory } = await service();
      await memory.add(scope, "The API lives in services/api");
      await memory.add("project:/work/b", "The API lives in cmd/server");
      expect(await texts(memory)).toEqual(["The API lives in services/api"]);
      expect((await memory.store.matching(["project:/work/b"], ["api"], 10)).map((r) => r.memory.text)).toEqual(["The API lives in cmd/server"]);
      expect(await memory.store.count()).toBe(2);
    });

    test("a vague restatement of the conversation's topic is skipped", async () => {
      const { memory } = await service();
      expect((await memory.store.learn(scope, "we should look at it", "user", { context: "let us look at it" })).kind).toBe("skipped");
      expect(await memory.store.count()).toBe(0);
    });

    test("pruning removes memories past MEMORY_MAX_AGE_DAYS and beyond MEMORY_MAX_COUNT per project", async () => {
      const { memory, counted } = await service({ MEMORY_MAX_COUNT: 2 });
      await memory.add(scope, "Deploys go through the staging cluster first", 0);
      const now = 40 * day;
      await memory.add(scope, "The API lives in services/api", now);
      await memory.add(scope, "Tests run with vitest", now);
      expect((await texts(memory)).sort()).toEqual(["Tests run with vitest", "The API lives in services/api"]);
      await memory.add(scope, "Docs are written in docs/ as Markdown", now + 1);
      expect(await memory.store.list(scope)).toHaveLength(2);
      expect(counted("pruned")).toBe(2);
    });

    test("forget removes a memory from search too", async () => {
      const { memory } = await service();
      const outcome = await memory.add(scope, "The API lives in services/api");
      if (outcome.kind !== "stored") throw new Error("expected a stored memory");
      expect(await memory.forget(outcome.id)).toBe(true);
      expect(await memory.forget(outcome.id)).toBe(false);
      expect(await memory.store.matching([scope], ["api"], 10)).toEqual([]);
    });

    test("a new session never gets a memory past MEMORY_MAX_AGE_DAYS: pruning runs before handing them out", async () => {
      const { memory, counted } = await service();
      await memory.add(scope, "Deploys go through the staging cluster first", 0);
      const request = { messages: [{ role: "system" as const, content: "# Environment\n - Primary working directory: /work/a\n - Is a git repository: false\n" }] };
      expect(await memory.blockFor("s1", request, "alice", 10 * day)).toContain("staging cluster");
      // Injected on day 10 (a use): gone 30 days later.
      expect(await memory.blockFor("s2", request, "alice", 41 * day)).toBe("");
      expect(await memory.store.list(scope)).toEqual([]);
      expect(counted("pruned")).toBe(1);
    });

    test("an export restored into an empty store is the same memories, counts and times kept", async () => {
      const { memory } = await service();
      await memory.add(scope, "The API lives in services/api", 5);
      await memory.add("global", "The user prefers tabs over spaces", 6);
      await memory.store.markUsed([1], 7);
      const exported = (await memory.store.list()).map(({ id: _id, ...m }) => m);
      const { memory: other } = await service();
      expect(await other.store.restore(exported)).toBe(2);
      expect((await other.store.list()).map(({ id: _id, ...m }) => m)).toEqual(exported);
      expect((await other.store.matching([scope], ["api"], 10)).map((r) => r.memory.text)).toEqual(["The API lives in services/api"]);
    });

    test("the first block kept for a session wins; a conversation's block is the first one it got", async () => {
      const { memory } = await service();
      const { store } = memory;
      expect(await store.sessionBlock("alice", "s1")).toBeUndefined();
      expect(await store.keepSessionBlock("alice", "s1", "conv", scope, "first", 1)).toEqual({ block: "first", createdAt: 1 });
      expect(await store.keepSessionBlock("alice", "s1", "conv", scope, "second", 2)).toEqual({ block: "first", createdAt: 1 });
      expect(await store.keepSessionBlock("alice", "s2", "conv", scope, "later", 3)).toEqual({ block: "later", createdAt: 3 });
      expect(await store.sessionBlock("alice", "s2")).toEqual({ block: "later", createdAt: 3 });
      expect(await store.conversationBlock("alice", "conv")).toBe("first");
      expect(await store.conversationBlock("bob", "conv")).toBeUndefined();
      const racing = await Promise.all([1, 2, 3, 4].map((n) => store.keepSessionBlock("bob", "s9", "c9", scope, `block ${n}`, 10)));
      expect(new Set(racing.map((k) => k.block)).size).toBe(1);
    });

    test("a session's block outlives neither MEMORY_MAX_AGE_DAYS nor the gateway's own copy of it", async () => {
      const { memory } = await service();
      await memory.add(scope, "Deploys go through the staging cluster first", 0);
      const request = { messages: [{ role: "system" as const, content: "# Environment\n - Primary working directory: /work/a\n - Is a git repository: false\n" }] };
      const first = await memory.blockFor("s1", request, "alice", day);
      expect(first).toContain("staging cluster");
      // Another gateway on the same store (a replica, or this one restarted) gives the same bytes.
      const other = new MemoryService(memory.store, settings);
      expect(await other.blockFor("s1", request, "alice", 2 * day)).toBe(first);
      // Past MEMORY_MAX_AGE_DAYS pruning takes the session's block: both gateways make a new one.
      await memory.add(scope, "The API lives in services/api", 40 * day);
      expect(await memory.blockFor("s1", request, "alice", 40 * day)).not.toBe(first);
      expect(await other.blockFor("s1", request, "alice", 40 * day)).toBe(await memory.blockFor("s1", request, "alice", 40 * day));
    });
  });
}
