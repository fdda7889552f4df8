import { expect, test } from "bun:test";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import { countTextTokens } from "../../src/optimize/tokens.ts";
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
