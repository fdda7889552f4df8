import { expect, test } from "bun:test";
import { MemoryService } from "../../src/memory/service.ts";
import { surprise, surpriseThreshold } from "../../src/memory/surprise.ts";
import { openDatabase } from "../../src/store/db.ts";
import { MemoryMetrics } from "../../src/observability/metrics/memory-metrics.ts";
import { Registry } from "../../src/observability/metrics/registry.ts";

const settings = { MEMORY_MAX_AGE_DAYS: 30, MEMORY_MAX_COUNT: 50, MEMORY_DECAY_HALF_LIFE: 10, MEMORY_MAX_TOKENS: 600 };
const day = 86_400_000;
const scope = "project:/work/a";

function service(overrides: Partial<typeof settings> = {}) {
  const registry = new Registry();
  const memory = new MemoryService(openDatabase(":memory:"), { ...settings, ...overrides }, new MemoryMetrics(registry));
  const counted = (event: string) => {
    const metric = registry.all().find((m) => m.name === "lynkr_memory_events_total");
    return metric?.type === "counter" ? metric.get({ event }) : 0;
  };
  return { memory, counted };
}

test("a contradiction supersedes: 'use npm' after 'never npm' leaves one memory, the newer", () => {
  const { memory, counted } = service();
  memory.store.learn(scope, "In this repo we always use pnpm, never npm", "user", { now: 1 });
  const outcome = memory.store.learn(scope, "Actually, use npm from now on", "user", { now: 2 });
  expect(outcome.kind).toBe("stored");
  expect(memory.store.list(scope).map((m) => m.text)).toEqual(["Actually, use npm from now on"]);
  memory.add(scope, "Never use npm here");
  expect(memory.store.list(scope).map((m) => m.text)).toEqual(["Never use npm here"]);
  expect(counted("superseded")).toBe(1);
});

test("near-duplicates merge: the newer wording wins and mentions add up", () => {
  const { memory, counted } = service();
  memory.store.learn(scope, "We always use pnpm, never npm", "user", { now: 1 });
  const outcome = memory.add(scope, "Always use pnpm and never npm!", 2);
  expect(outcome.kind).toBe("merged");
  const [only, ...rest] = memory.store.list(scope);
  expect(rest).toEqual([]);
  expect(only?.text).toBe("Always use pnpm and never npm!");
  expect(only?.mentions).toBe(2);
  expect(counted("merged")).toBe(1);
});

test("a short memory is not swallowed by a longer statement that merely names the same tool", () => {
  const { memory } = service();
  memory.add(scope, "Use npm");
  memory.add(scope, "npm scripts live in package.json under scripts");
  expect(memory.store.list(scope)).toHaveLength(2);
});

test("memories stay in their scope", () => {
  const { memory } = service();
  memory.add(scope, "The API lives in services/api");
  memory.add("project:/work/b", "The API lives in cmd/server");
  expect(memory.store.list(scope).map((m) => m.text)).toEqual(["The API lives in services/api"]);
  expect(memory.store.matching(["project:/work/b"], ["api"], 10).map((r) => r.memory.text)).toEqual(["The API lives in cmd/server"]);
});

test("the surprise gate keeps specific, stressed statements and drops vague restatements of the topic", () => {
  const specific = surprise("Never edit src/generated/*.ts by hand: run `make gen`", [], "");
  expect(specific.score).toBeGreaterThanOrEqual(surpriseThreshold);
  const vague = surprise("we should look at it", [{ keywords: ["look"], stance: { affirms: [["look"]], negates: [] } }], "let us look at it");
  expect(vague.score).toBeLessThan(surpriseThreshold);
  const { memory } = service();
  expect(memory.store.learn(scope, "we should look at it", "user", { context: "let us look at it" }).kind).toBe("skipped");
});

test("pruning removes memories past MEMORY_MAX_AGE_DAYS and beyond MEMORY_MAX_COUNT per project", () => {
  const { memory, counted } = service({ MEMORY_MAX_COUNT: 2 });
  memory.add(scope, "Deploys go through the staging cluster first", 0);
  const now = 40 * day;
  memory.add(scope, "The API lives in services/api", now);
  memory.add(scope, "Tests run with vitest", now);
  expect(memory.store.list(scope).map((m) => m.text).sort()).toEqual(["Tests run with vitest", "The API lives in services/api"]);
  memory.add(scope, "Docs are written in docs/ as Markdown", now + 1);
  expect(memory.store.list(scope)).toHaveLength(2);
  expect(counted("pruned")).toBe(2);
});

test("forget removes a memory from search too", () => {
  const { memory } = service();
  const outcome = memory.add(scope, "The API lives in services/api");
  if (outcome.kind !== "stored") throw new Error("expected a stored memory");
  expect(memory.forget(outcome.id)).toBe(true);
  expect(memory.forget(outcome.id)).toBe(false);
  expect(memory.store.matching([scope], ["api"], 10)).toEqual([]);
});

test("a new session never gets a memory past MEMORY_MAX_AGE_DAYS: pruning runs before handing them out", () => {
  const { memory, counted } = service();
  memory.add(scope, "Deploys go through the staging cluster first", 0);
  const request = { messages: [{ role: "system" as const, content: "# Environment\n - Primary working directory: /work/a\n - Is a git repository: false\n" }] };
  expect(memory.blockFor("s1", request, "alice", 10 * day)).toContain("staging cluster");
  // Injected on day 10 (a use): gone 30 days later.
  expect(memory.blockFor("s2", request, "alice", 41 * day)).toBe("");
  expect(memory.store.list(scope)).toEqual([]);
  expect(counted("pruned")).toBe(1);
});
