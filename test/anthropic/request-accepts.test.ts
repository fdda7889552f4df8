import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { certainlyValidMessagesRequest } from "../../src/anthropic/request-accepts.ts";
import { messagesRequestSchema } from "../../src/anthropic/schema.ts";
import { wireDir } from "../helpers/fake-upstream.ts";

// The fast check may only ever say "valid" where zod says so too; on what Claude Code really
// sends it must say "valid" (else the hot path would gain nothing).

function recordedRequests(): unknown[] {
  const out: unknown[] = [(JSON.parse(readFileSync(join(wireDir, "claude-code-2.1.328-request.json"), "utf8")) as { body: unknown }).body];
  const sessions = join(wireDir, "claude-code-sessions");
  for (const dir of readdirSync(sessions)) {
    if (!statSync(join(sessions, dir)).isDirectory()) continue;
    for (const file of readdirSync(join(sessions, dir)).filter((f) => f.endsWith(".json"))) {
      const recorded = JSON.parse(readFileSync(join(sessions, dir, file), "utf8")) as { url: string; body: unknown };
      if (/\/v1\/messages(\?|$)/.test(recorded.url)) out.push(recorded.body);
    }
  }
  return out;
}

const zodAccepts = (value: unknown) => messagesRequestSchema.safeParse(value).success;

test("every recorded Claude Code request is certainly valid, and zod agrees", () => {
  const requests = recordedRequests();
  expect(requests.length).toBeGreaterThan(15);
  for (const request of requests) {
    expect(zodAccepts(request)).toBe(true);
    expect(certainlyValidMessagesRequest(request)).toBe(true);
  }
});

/** Every path to a value inside `value`. */
function paths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

const replacements: unknown[] = [
  null, "", "x", "text", "image", "base64", "url", "user", "auto", 0, -1, 1.5, 7, 2 ** 60, Infinity, true, false, [], [1], ["s"], {},
  { type: "text" }, { type: "text", text: 1 }, { type: "image", source: {} }, { type: "image", source: { type: "url" } },
  { type: "document", source: { type: "text", data: "d" }, title: 3 }, { type: "tool_use", id: "i", name: "n" },
  { type: "tool_result", tool_use_id: "t", content: [{ type: "image" }] }, { type: "thinking", thinking: "t", signature: 1 },
  { type: "redacted_thinking" }, { type: "server_tool_use" }, { type: "ephemeral" }, { role: "user", content: [] },
];

test("whatever a request is mutated into, the fast check never accepts what zod refuses", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  const requests = recordedRequests();
  const outcomes = { bothAccept: 0, zodOnly: 0, bothRefuse: 0 };
  for (let n = 0; n < 1500; n++) {
    const mutated = structuredClone(requests[random(requests.length)]) as Record<string, unknown>;
    // One to three changes: a value replaced, a key dropped, or an unknown key added.
    for (let m = 1 + random(3); m > 0; m--) {
      const all = paths(mutated).filter((p) => p.length > 0);
      const path = all[random(all.length)] as (string | number)[];
      let parent: unknown = mutated;
      for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
      const last = path.at(-1) as string | number;
      const container = parent as Record<string | number, unknown>;
      const what = random(10);
      if (what === 0 && !Array.isArray(parent)) delete container[last];
      else if (what === 1 && !Array.isArray(parent)) container[`extra_${n}`] = replacements[random(replacements.length)];
      else container[last] = structuredClone(replacements[random(replacements.length)]);
    }
    const fast = certainlyValidMessagesRequest(mutated);
    const zod = zodAccepts(mutated);
    if (fast && !zod) throw new Error(`the fast check accepted what zod refuses: ${JSON.stringify(messagesRequestSchema.safeParse(mutated).error?.issues.slice(0, 2))}`);
    if (fast) outcomes.bothAccept++;
    else if (zod) outcomes.zodOnly++;
    else outcomes.bothRefuse++;
  }
  // The mutations reach both sides of the line.
  expect(outcomes.bothAccept).toBeGreaterThan(200);
  expect(outcomes.bothRefuse).toBeGreaterThan(200);
});

test("values only zod can judge are left to zod", () => {
  expect(certainlyValidMessagesRequest([])).toBe(false);
  expect(certainlyValidMessagesRequest({ model: "m", max_tokens: 1, messages: [], stream: null })).toBe(false);
  expect(zodAccepts({ model: "m", max_tokens: 1, messages: [], stream: null })).toBe(false);
  expect(certainlyValidMessagesRequest({ model: "m", max_tokens: 1, messages: [], temperature: Infinity })).toBe(false);
  expect(certainlyValidMessagesRequest({ model: "m".repeat(257), max_tokens: 1, messages: [] })).toBe(false);
  expect(certainlyValidMessagesRequest({ model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: "future_block", x: 1 }] }] })).toBe(true);
});
