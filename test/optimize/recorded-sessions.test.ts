import { describe, expect, test } from "bun:test";
import type { MessagesRequest } from "../../src/anthropic/schema.ts";
import { clearedPlaceholder, clearToolResults } from "../../src/optimize/clear-tool-results.ts";
import { Optimizer, type OptimizeReport, type OptimizeSettings } from "../../src/optimize/index.ts";
import { countRequestTokens } from "../../src/optimize/tokens.ts";
import { CapabilityTable } from "../../src/providers/models/capabilities.ts";
import { toOllamaRequest } from "../../src/providers/ollama/request.ts";
import { toChatRequest } from "../../src/providers/openai-chat/request.ts";
import { recordedSession, recordedSessionNames, withLongToolResults, type RecordedRequest } from "./recorded-sessions.ts";

// Every optimization on the recorded Claude Code sessions: the same session optimized twice
// gives the same bytes (determinism), and what each upstream receives only grows from one
// request of a thread to the next (the prefix property), except where a clearing edit fires.

const settings: OptimizeSettings = { profile: "auto", disabled: [], smallWindowTokens: 32_768, clearTrigger: 0.85, clearTarget: 0.5, keepToolResults: 1, maxSessions: 100 };

interface Case {
  name: string;
  window: number;
  model: string;
  /** Overrides, e.g. a trigger low enough that clearing fires on these short sessions. */
  settings?: Partial<OptimizeSettings>;
}

const cases: Case[] = [
  { name: "full (gpt-4o, 128k)", window: 128_000, model: "gpt-4o" },
  { name: "small (16k)", window: 16_384, model: "qwen2.5-coder-7b" },
  { name: "small (32k)", window: 32_768, model: "qwen2.5-coder-7b" },
];

/** The recorded sessions, and one whose tool results are long enough to make clearing fire. */
const sessions: [string, RecordedRequest[]][] = [
  ...recordedSessionNames.map((name): [string, RecordedRequest[]] => [name, recordedSession(name)]),
  ["refactor-two-runs, tool results ×40", withLongToolResults(recordedSession("refactor-two-runs"), 40)],
];

function optimizeSession(session: RecordedRequest[], c: Case): { request: MessagesRequest; report: OptimizeReport; conversation: string }[] {
  const optimizer = new Optimizer({ ...settings, ...c.settings });
  return session.map(({ request, thread, conversation }) => ({
    ...optimizer.optimize(structuredClone(request), { thread, header: undefined, target: { anthropicWire: false, model: c.model, contextWindow: c.window } }),
    conversation,
  }));
}

/** What an OpenAI-wire and an Ollama upstream would receive: tools and messages, each as JSON. */
function wireForms(request: MessagesRequest): { tools: string[]; messages: string[] }[] {
  const caps = new CapabilityTable().for("gpt-4o");
  const chat = toChatRequest(request, { flavor: "openai", provider: "openai", bodyModel: "gpt-4o", model: "gpt-4o", capabilities: caps, midSystem: "keep" });
  const ollama = toOllamaRequest(request, { model: "qwen", tools: true, thinking: true, thinkLevels: [], keepAlive: undefined, numCtx: undefined });
  return [chat, ollama].map((body) => ({ tools: (body.tools ?? []).map((t) => JSON.stringify(t)), messages: body.messages.map((m) => JSON.stringify(m)) }));
}

/** A message as the client means it: cache_control marks dropped, a string as one text block. */
function meaning(message: MessagesRequest["messages"][number]): string {
  const blocks = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
  return JSON.stringify({ role: message.role, blocks: blocks.map(({ cache_control: _, ...rest }) => rest) });
}

/** Whether the client only appended: every earlier message comes back meaning the same. */
function onlyAppended(before: MessagesRequest, after: MessagesRequest): boolean {
  return before.messages.every((m, i) => after.messages[i] !== undefined && meaning(m) === meaning(after.messages[i] as typeof m));
}

function toolUseIds(request: MessagesRequest): string[] {
  return request.messages.flatMap((m) => (typeof m.content === "string" ? [] : m.content.filter((b) => b.type === "tool_use").map((b) => String(b.id))));
}

function toolResultIds(request: MessagesRequest): string[] {
  return request.messages.flatMap((m) => (typeof m.content === "string" ? [] : m.content.filter((b) => b.type === "tool_result").map((b) => String(b.tool_use_id))));
}

for (const [sessionName, session] of sessions) {
  describe(sessionName, () => {
    for (const c of cases) {
      test(`${c.name}: optimized twice, the same bytes`, () => {
        const once = optimizeSession(session, c).map((o) => JSON.stringify(o.request));
        const twice = optimizeSession(session, c).map((o) => JSON.stringify(o.request));
        expect(twice).toEqual(once);
      });

      test(`${c.name}: where the client only appended, each upstream body extends the one before it in its thread`, () => {
        const optimized = optimizeSession(session, c);
        for (let i = 1; i < optimized.length; i++) {
          const before = optimized[i - 1];
          const after = optimized[i];
          if (!before || !after || before.conversation !== after.conversation) continue;
          // Claude Code's second compaction request rewrites its last message: not an append.
          const rewritten = after.report.clearingFired || !onlyAppended(session[i - 1]?.request as MessagesRequest, session[i]?.request as MessagesRequest);
          const pairs = wireForms(before.request).map((b, w) => [b, wireForms(after.request)[w]] as const);
          for (const [b, a] of pairs) {
            if (!a) throw new Error("missing wire form");
            // Tools only ever grow at the end.
            expect(a.tools.slice(0, b.tools.length)).toEqual(b.tools);
            if (rewritten) continue;
            expect(a.messages.length).toBeGreaterThanOrEqual(b.messages.length);
            for (const [k, message] of b.messages.entries()) expect({ i, k, message: a.messages[k] }).toEqual({ i, k, message });
          }
        }
      });

      test(`${c.name}: names, schemas' shape, tool pairing and the latest user message survive`, () => {
        const optimized = optimizeSession(session, c);
        for (const [i, { request, report }] of optimized.entries()) {
          const original = session[i]?.request as MessagesRequest;
          expect((request.tools ?? []).map((t) => t.name).sort()).toEqual((original.tools ?? []).map((t) => t.name).sort());
          for (const tool of request.tools ?? []) {
            const source = original.tools?.find((t) => t.name === tool.name);
            const shape = (schema: unknown) => JSON.stringify(schema, (key, value) => (key === "description" ? undefined : value));
            expect(shape(tool.input_schema)).toBe(shape(source?.input_schema));
          }
          expect(toolUseIds(request)).toEqual(toolUseIds(original));
          expect(toolResultIds(request)).toEqual(toolResultIds(original));
          const lastUser = (r: MessagesRequest) => JSON.stringify(r.messages.findLast((m) => m.role === "user"));
          expect(lastUser(request)).toBe(lastUser(original));
          if (report.profile === "full") {
            // Lossless: the same content, at most in another tool order.
            expect(JSON.stringify({ ...request, tools: undefined })).toBe(JSON.stringify({ ...original, tools: undefined }));
          }
        }
      });
    }
  });
}

test("the small profile cuts what the upstream reads by more than 40% per session, and keeps every request in a 16k window", () => {
  for (const name of recordedSessionNames) {
    const session = recordedSession(name);
    const optimized = optimizeSession(session, cases[1] as Case);
    let before = 0;
    let after = 0;
    for (const [i, { request, report }] of optimized.entries()) {
      expect(report.profile).toBe("small");
      before += countRequestTokens(session[i]?.request as MessagesRequest, "gpt-4o");
      after += countRequestTokens(request, "gpt-4o");
      // Room for 4k of output on every request.
      expect({ name, i, fits: countRequestTokens(request, "gpt-4o") + 4_096 <= 16_384 }).toEqual({ name, i, fits: true });
    }
    expect({ name, ratio: after / before < 0.6 }).toEqual({ name, ratio: true });
  }
});

test("clearing: fires once past the trigger, clears the oldest results down to the low-water mark, and stays put", () => {
  const session = withLongToolResults(recordedSession("refactor-two-runs"), 80);
  const optimized = optimizeSession(session, cases[1] as Case);
  const fired = optimized.filter((o) => o.report.clearingFired);
  expect(fired.length).toBeGreaterThanOrEqual(1);
  // It does not fire on every turn: that would change the prefix every time.
  expect(fired.length).toBeLessThan(optimized.length - 1);
  const last = optimized.at(-1);
  if (!last) throw new Error("no requests");
  expect(last.report.clearedToolResults).toBeGreaterThan(0);
  expect(last.report.actions).toContain(`tool-results=cleared:${last.report.clearedToolResults}`);
  expect(JSON.stringify(last.request)).toContain(clearedPlaceholder);
});

test("hysteresis on six-file-reads (16k): an edit brings the prompt under the low-water mark and buys the next turn; every request stays under the trigger", () => {
  const session = recordedSession("six-file-reads");
  const c = cases[1] as Case;
  const optimized = optimizeSession(session, c);
  const trigger = Math.floor(c.window * settings.clearTrigger);
  const target = Math.floor(c.window * settings.clearTarget);
  const fired = optimized.flatMap((o, i) => (o.report.clearingFired ? [i] : []));
  expect(fired.length).toBeGreaterThanOrEqual(1);
  for (const [i, { request, report }] of optimized.entries()) {
    const size = countRequestTokens(request, c.model);
    expect({ i, underTrigger: size <= trigger }).toEqual({ i, underTrigger: true });
    // Cleared down to the low-water mark, give or take the last result the edit had to clear.
    if (report.clearingFired) expect({ i, nearTarget: size <= target + 1_000 }).toEqual({ i, nearTarget: true });
  }
  // No two edits in a row: each one is followed by at least one request that only appends.
  for (let k = 1; k < fired.length; k++) expect((fired[k] as number) - (fired[k - 1] as number)).toBeGreaterThan(1);
});

test("hysteresis, by tokens: one edit clears as many of the oldest results as it takes to reach the target, no more", () => {
  const [, second] = recordedSession("refactor-two-runs");
  if (!second) throw new Error("short recording");
  const ids = ["a", "b", "c", "d", "e"];
  const request: MessagesRequest = {
    ...second.request,
    messages: [
      ...second.request.messages.slice(0, 2),
      ...ids.flatMap((id) => [
        { role: "assistant" as const, content: [{ type: "tool_use" as const, id, name: "Read", input: {} }] },
        { role: "user" as const, content: [{ type: "tool_result" as const, tool_use_id: id, content: id.repeat(4_000) }] },
      ]),
    ],
  };
  // Each result counts 1,000; the prompt 6,000: down to 3,500 takes a, b and c (three), not d.
  const options = { trigger: 5_000, target: 3_500, keep: 0, clearAtLeast: 100, countRequest: () => 6_000, countText: (t: string) => t.length / 4 };
  const edit = clearToolResults(request, undefined, options);
  expect({ fired: edit.fired, cleared: edit.cleared, through: edit.through }).toEqual({ fired: true, cleared: 3, through: "c" });
  // The same request under the trigger: the same three stay cleared, nothing more.
  const after = clearToolResults(request, edit.through, { ...options, countRequest: () => 3_000 });
  expect({ fired: after.fired, cleared: after.cleared, same: JSON.stringify(after.request) === JSON.stringify(edit.request) }).toEqual({ fired: false, cleared: 3, same: true });
});

test("auto picks the profile by the target; a thread keeps the one it started with", () => {
  const [first, second] = recordedSession("refactor-two-runs");
  if (!first || !second) throw new Error("short recording");
  const optimizer = new Optimizer(settings);
  const target = (contextWindow: number | undefined, anthropicWire = false) => ({ anthropicWire, model: "m", contextWindow });
  const run = (r: RecordedRequest, thread: string, t: ReturnType<typeof target>) => optimizer.optimize(r.request, { thread, header: undefined, target: t }).report.profile;
  expect(run(first, "a", target(32_768))).toBe("small");
  expect(run(first, "b", target(128_000))).toBe("full");
  expect(run(first, "c", target(undefined))).toBe("full");
  expect(run(first, "d", target(200_000, true))).toBe("off");
  // Routed elsewhere later (a fallback), thread "a" stays small: its prefix does not flip.
  expect(run(second, "a", target(128_000))).toBe("small");
});

test("clearing never reaches into the latest user message, then or later", () => {
  const [, second] = recordedSession("refactor-two-runs");
  if (!second) throw new Error("short recording");
  const result = (id: string) => ({ type: "tool_result" as const, tool_use_id: id, content: `${id}${id} `.repeat(1500) });
  const use = (id: string) => ({ type: "tool_use" as const, id, name: "Read", input: {} });
  const conversation = (groups: string[][]): MessagesRequest => ({
    ...second.request,
    messages: [
      ...second.request.messages.slice(0, 2),
      ...groups.flatMap((group) => [
        { role: "assistant" as const, content: group.map(use) },
        { role: "user" as const, content: group.map(result) },
      ]),
    ],
  });
  const options = (size: number) => ({ trigger: 1_000, target: 0, keep: 1, clearAtLeast: 100, countRequest: () => size, countText: (t: string) => t.length / 4 });
  // Over the trigger: a and b go; c and d, in the latest user message, stay.
  const first = clearToolResults(conversation([["a"], ["b"], ["c", "d"]]), undefined, options(5_000));
  expect({ fired: first.fired, cleared: first.cleared, through: first.through }).toEqual({ fired: true, cleared: 2, through: "b" });
  // Under the trigger next time: the same two stay cleared, and c (no longer the latest) is not cleared without an edit.
  const next = clearToolResults(conversation([["a"], ["b"], ["c", "d"], ["e"]]), first.through, options(0));
  expect({ fired: next.fired, cleared: next.cleared }).toEqual({ fired: false, cleared: 2 });
});
