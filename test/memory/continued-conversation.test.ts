import { describe, expect, test } from "bun:test";
import { MemoryService } from "../../src/memory/service.ts";
import { memoryBackends } from "../helpers/memory-stores.ts";
import { recordedSession } from "../helpers/recorded-sessions.ts";

// A conversation keeps the memory block it started with when a later run continues it under
// another session id (a forked or resumed run): the recorded refactor-two-runs session, RUN-1
// under its own id, RUN-2 (`claude --continue`, RUN-1's messages and more) under a new one.

const settings = { MEMORY_MAX_AGE_DAYS: 30, MEMORY_MAX_COUNT: 50, MEMORY_DECAY_HALF_LIFE: 10, MEMORY_MAX_TOKENS: 600 };
const project = "project:/home/user/project";
const remembered = "Tests run with `node test/run.js`; never add a test framework";
const learntLater = "Release notes go in CHANGELOG.md, newest first";

const requests = recordedSession("refactor-two-runs");
const run1 = requests.filter((r) => r.file.includes("RUN-1"));
const run2 = requests.filter((r) => r.file.includes("RUN-2"));

test("the recording: RUN-2 continues RUN-1's messages (its first message is RUN-1's)", () => {
  expect(run1.length).toBeGreaterThan(1);
  expect(run2.length).toBeGreaterThan(0);
  const last1 = run1.at(-1)?.request.messages ?? [];
  const first2 = run2[0]?.request.messages ?? [];
  expect(first2.length).toBeGreaterThan(last1.length);
  expect(JSON.stringify(first2[0])).toBe(JSON.stringify(last1[0]));
});

for (const backend of memoryBackends()) {
  describe(backend.name, () => {
    async function memoryWithOne() {
      const memory = new MemoryService(await backend.fresh(), settings);
      await memory.add(project, remembered, 1);
      return memory;
    }
    const blocksOf = async (memory: MemoryService, session: string, from: number) => {
      const blocks: string[] = [];
      for (const [i, r] of run2.entries()) blocks.push(await memory.blockFor(session, r.request, "client", from + i));
      return blocks;
    };

    test("RUN-2 under a new session id gets RUN-1's block byte for byte, though a memory was learnt in between", async () => {
      const memory = await memoryWithOne();
      const blocks1: string[] = [];
      for (const [i, r] of run1.entries()) {
        blocks1.push(await memory.blockFor("run-1", r.request, "client", 10 + i));
        if (i === 0) await memory.add(project, learntLater, 11);
      }
      expect(blocks1[0]).toContain(remembered);
      expect(blocks1[0]).not.toContain(learntLater);
      expect(new Set(blocks1).size).toBe(1);
      expect(await blocksOf(memory, "run-2", 100)).toEqual(run2.map(() => blocks1[0] as string));
      // A new conversation (only its first request so far) is given what was learnt meanwhile.
      const fresh = await memory.blockFor("run-3", recordedSession("six-file-reads")[0]!.request, "client", 200);
      expect(fresh).toContain(remembered);
      expect(fresh).toContain(learntLater);
    });

    test("a continued conversation that had no block (memory off in RUN-1, or another client) goes on without one", async () => {
      const memory = await memoryWithOne();
      await memory.blockFor("run-1", run1[0]!.request, "someone-else", 10);
      expect(await blocksOf(memory, "run-2", 100)).toEqual(run2.map(() => ""));
    });

    test("the same first message starting a new conversation is a new conversation: it gets new memories", async () => {
      const memory = await memoryWithOne();
      expect(await memory.blockFor("run-1", run1[0]!.request, "client", 10)).not.toContain(learntLater);
      await memory.add(project, learntLater, 11);
      expect(await memory.blockFor("run-again", run1[0]!.request, "client", 20)).toContain(learntLater);
    });
  });
}
