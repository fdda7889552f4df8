import type { MessageParam } from "../../src/anthropic/schema.ts";
import { MemoryService } from "../../src/memory/service.ts";
import { SqliteMemoryStore } from "../../src/memory/sqlite-store.ts";
import { openDatabase } from "../../src/store/db.ts";
import { median, type BenchSection } from "../lib.ts";

// What learning costs a turn as a Claude Code session grows: every finished turn is handed to
// memory, which reads what the turn added (its user text, the answer before it). The session
// is synthetic but shaped like Claude Code's: an environment block, tool loops with 4 KB
// results, and every fifth turn a user message with a statement and a system reminder. The
// statements repeat (they merge), so the store's work stays the same and the figures show the
// reading alone: flat when a turn reads only what it added, growing with the history when it
// reads all of it.

const turns = 2000;
const windows = [
  [1, 50],
  [451, 500],
  [1951, 2000],
] as const;
const statements = ["Always run `make lint` before committing", "The API lives in services/api", "Never edit files in src/gen by hand"];
const reminder = `<system-reminder>\n${"Contents of CLAUDE.md: keep functions small. ".repeat(20)}\n</system-reminder>`;

function session(): MessageParam[][] {
  const messages: MessageParam[] = [
    { role: "user", content: [{ type: "text", text: reminder }, { type: "text", text: "Let's refactor the billing module." }] },
    { role: "system", content: "# Environment\n - Primary working directory: /work/shop\n - Is a git repository: false\n" },
  ];
  const requests: MessageParam[][] = [];
  for (let turn = 1; turn <= turns; turn++) {
    if (turn % 5 === 0) {
      messages.push({ role: "assistant", content: [{ type: "text", text: "Done." }] });
      messages.push({ role: "user", content: [{ type: "text", text: reminder }, { type: "text", text: statements[turn % statements.length] as string }] });
    } else {
      messages.push({ role: "assistant", content: [{ type: "tool_use", id: `toolu_${turn}`, name: "Read", input: { file_path: `/work/shop/f${turn}.ts` } }] });
      messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: `toolu_${turn}`, content: "x".repeat(4096) }] });
    }
    requests.push([...messages]);
  }
  return requests;
}

export default async function memoryLearningBench(): Promise<BenchSection> {
  const requests = session();
  const memory = new MemoryService(new SqliteMemoryStore(openDatabase(":memory:")), { MEMORY_MAX_AGE_DAYS: 365, MEMORY_MAX_COUNT: 500, MEMORY_DECAY_HALF_LIFE: 30, MEMORY_MAX_TOKENS: 600 });
  const micros: number[] = [];
  for (const messages of requests) {
    const started = performance.now();
    await memory.learnFrom({ messages }, "bench");
    micros.push((performance.now() - started) * 1000);
  }
  // Medians: on a shared machine one collection pause would swing a window's mean.
  const all = (from: number, to: number) => median(micros.slice(from - 1, to));
  const stated = (from: number, to: number) => median(micros.slice(from - 1, to).filter((_, i) => (from + i) % 5 === 0));
  return {
    title: `Memory learning cost per turn (synthetic Claude Code session, ${turns} turns, a statement every fifth)`,
    columns: ["turns", "messages in history", "median µs per turn", "median µs per statement turn"],
    rows: windows.map(([from, to]) => [`${from}–${to}`, `${2 + 2 * from}–${2 + 2 * to}`, all(from, to).toFixed(1), stated(from, to).toFixed(1)]),
    notes: [`total for the session: ${(micros.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} ms; flat rows mean a turn's cost does not grow with the history`],
  };
}
