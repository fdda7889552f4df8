import { expect, test } from "bun:test";
import type { Message } from "../../../src/anthropic/schema.ts";
import { PromptCache } from "../../../src/cache/prompt-cache.ts";
import { SqliteEntries } from "../../../src/cache/sqlite-entries.ts";
import { cacheStep } from "../../../src/pipeline/steps/cache.ts";
import { openDatabase } from "../../../src/store/db.ts";
import { contextFor, request, turnFor } from "../turn-fixture.ts";

const settings = { perClient: false, provider: "anthropic", model: "" };
const message: Message = {
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "claude-x",
  content: [{ type: "text", text: "cached" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 1 },
} as Message;

test("with the cache off nothing is looked up and the facts say off", () => {
  const turn = turnFor();
  expect(cacheStep(undefined, settings).run(turn)).toBeUndefined();
  expect(turn.cacheKey).toBeUndefined();
  expect(turn.ctx.facts.cache).toBe("off");
});

test("a miss keys the turn (for storing its answer later); the same prompt then answers from the cache", () => {
  const cache = new PromptCache({ durable: new SqliteEntries(openDatabase(":memory:"), 10) }, 60_000, 10);
  const step = cacheStep(cache, settings);
  const first = turnFor();
  expect(step.run(first)).toBeUndefined();
  expect(first.ctx.facts.cache).toBe("miss");
  if (!first.cacheKey) throw new Error("a miss keys the turn");
  cache.set(first.cacheKey, message, undefined);

  const again = turnFor();
  const answer = step.run(again);
  expect(answer).toMatchObject({ from: "cache", entry: { message } });
  expect(again.ctx.facts.cache).toBe("hit");
});

test("answers are kept per client when clients are told apart", () => {
  const cache = new PromptCache({ durable: new SqliteEntries(openDatabase(":memory:"), 10) }, 60_000, 10);
  const step = cacheStep(cache, { ...settings, perClient: true });
  const mine = turnFor(request(), { ...contextFor(), client: "alice" });
  step.run(mine);
  if (!mine.cacheKey) throw new Error("a miss keys the turn");
  cache.set(mine.cacheKey, message, undefined);
  expect(step.run(turnFor(request(), { ...contextFor(), client: "bob" }))).toBeUndefined();
  expect(step.run(turnFor(request(), { ...contextFor(), client: "alice" }))).toMatchObject({ from: "cache" });
});
