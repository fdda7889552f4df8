import { expect, test } from "bun:test";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import type { CountTokensRequest } from "../../src/anthropic/schema.ts";
import { countRequestTokens, countTextTokens } from "../../src/optimize/tokens.ts";
import { readWire } from "../helpers/fake-upstream.ts";

test("a long run of one character is counted in linear time, with a sane count (js-tiktoken alone took seconds)", () => {
  for (const run of ["=", "a", " ", "\n", "é", "😀", "-="]) {
    const text = run.repeat(20_000);
    const started = performance.now();
    const count = countTextTokens(text);
    // Generous on a busy machine: unbounded BPE took 28 s for this input.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(count).toBeGreaterThan(text.length / 40);
    expect(count).toBeLessThanOrEqual(text.length);
  }
});

test("runs within other text: everything around them is still counted exactly", () => {
  const plain = new Tiktoken(cl100k);
  const prose = "The quick brown fox jumps over the lazy dog. ";
  const runs = "#".repeat(1000);
  expect(countTextTokens(prose + runs + prose)).toBe(2 * plain.encode(prose).length + 250);
});

test("a real Claude Code request counts exactly as the plain tokenizer does (no run in it is that long)", async () => {
  const text = JSON.stringify((JSON.parse(await readWire("claude-code-2.1.328-request.json")) as { body: unknown }).body);
  expect(countTextTokens(text)).toBe(new Tiktoken(cl100k).encode(text, "all").length);
});

const recordedBody = async () => (JSON.parse(await readWire("claude-code-2.1.328-request.json")) as { body: CountTokensRequest }).body;

test("a request built to be slow to count (2 MB of '\\n' pairs in a tool schema) is counted in bounded time", async () => {
  const request = await recordedBody();
  const tool = request.tools?.[0];
  if (!tool) throw new Error("the recording has tools");
  tool.input_schema = { type: "object", description: "\n".repeat(1_000_000) };
  const started = performance.now();
  const count = countRequestTokens(request);
  // Counted exactly, this took 3.7 s; bounded, ~130 ms at worst on an idle machine.
  expect(performance.now() - started).toBeLessThan(1_000);
  expect(count).toBeGreaterThan(100_000);
});

test("past the exact part, a long request's count follows the rate measured on it (within 5% for real text)", async () => {
  const request = await recordedBody();
  const prose = request.system && typeof request.system !== "string" ? request.system.map((b) => b.text).join("\n") : "";
  const long = { ...request, messages: [{ role: "user" as const, content: prose.repeat(30) }] };
  const exact = new Tiktoken(cl100k).encode(prose.repeat(30), "all").length;
  const counted = countRequestTokens(long) - countRequestTokens({ ...request, messages: [{ role: "user", content: "" }] });
  expect(Math.abs(counted - exact) / exact).toBeLessThan(0.05);
});

