import { expect, test } from "bun:test";
import { MemoryService } from "../../../src/memory/service.ts";
import { SqliteMemoryStore } from "../../../src/memory/sqlite-store.ts";
import { memoryStep } from "../../../src/pipeline/steps/memory.ts";
import { openDatabase } from "../../../src/store/db.ts";
import { contextFor, request, turnFor } from "../turn-fixture.ts";

const settings = { MEMORY_MAX_AGE_DAYS: 90, MEMORY_MAX_COUNT: 1000, MEMORY_DECAY_HALF_LIFE: 30, MEMORY_MAX_TOKENS: 500 };

test("with memory off the request and the client's bytes go on untouched", () => {
  const turn = turnFor();
  const { request: before, body } = turn;
  // Nothing to wait for: the step answers at once.
  expect(memoryStep(undefined).run(turn)).toBeUndefined();
  expect(turn.request).toBe(before);
  expect(turn.body).toBe(body as string);
});

test("a named session gets its memory block after the system blocks, and the client's bytes are dropped", async () => {
  const memory = new MemoryService(new SqliteMemoryStore(openDatabase(":memory:")), settings);
  await memory.add("global", "The user prefers tabs over spaces in every project.");
  const turn = turnFor(request({ system: "You are Claude Code." }), contextFor({ "x-claude-code-session-id": "s-mem" }));
  turn.namedSession = "s-mem";
  await memoryStep(memory).run(turn);
  const system = turn.request.system;
  expect(Array.isArray(system) && system.length).toBe(2);
  expect(JSON.stringify(system)).toContain("tabs over spaces");
  expect(turn.body).toBeUndefined();
  // What the client sent is kept as sent: memory learns from it, not from the block.
  expect(turn.client.system).toBe("You are Claude Code.");
});
