import { expect, test } from "bun:test";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import type { EncodingName } from "../../src/optimize/encodings.ts";
import { PieceCounts, pieceCounts, type Counting } from "../../src/optimize/piece-counts.ts";
import { countTextTokens, localRequestTokens, localRequestTokensSliced } from "../../src/optimize/tokens.ts";
import { recordedSession, recordedSessionNames } from "./recorded-sessions.ts";

const encodings: EncodingName[] = ["cl100k_base", "o200k_base"];

test("every recorded Claude Code turn counts the same with the memo warm, cold or cleared before each turn", () => {
  for (const name of recordedSessionNames) {
    const session = recordedSession(name);
    for (const encoding of encodings) {
      pieceCounts.clear();
      const cold = session.map(({ request }) => {
        pieceCounts.clear();
        return localRequestTokens(structuredClone(request), encoding);
      });
      pieceCounts.clear();
      const warm = session.map(({ request }) => localRequestTokens(structuredClone(request), encoding));
      expect(warm).toEqual(cold);
      // A second pass finds every piece remembered, and still the same counts.
      expect(session.map(({ request }) => localRequestTokens(structuredClone(request), encoding))).toEqual(cold);
    }
  }
});

test("a later turn of a session encodes only what is new", () => {
  const session = recordedSession(recordedSessionNames[0]!);
  pieceCounts.clear();
  const encoded: number[] = [];
  for (const { request } of session) {
    const before = pieceCounts.size;
    localRequestTokens(structuredClone(request), "cl100k_base");
    encoded.push(pieceCounts.size - before);
  }
  // The first turn remembers its system prompt and tools; later turns add a few new blocks.
  expect(encoded.length).toBeGreaterThan(2);
  for (const added of encoded.slice(1)) expect(added).toBeLessThan(encoded[0]!);
});

test("the memo is bounded in entries, forgets the least recently used, and counts short pieces without remembering them", () => {
  const memo = new PieceCounts(3, 8);
  const calls: string[] = [];
  const count = (text: string) => {
    const run = memo.count(text, "cl100k_base", function* (t): Counting {
      calls.push(t);
      return t.length;
    });
    for (let step = run.next(); ; step = run.next()) if (step.done) return step.value;
  };
  for (const text of ["aaaaaaaa1", "aaaaaaaa2", "aaaaaaaa3"]) count(text);
  count("aaaaaaaa1"); // now the most recently used
  count("aaaaaaaa4"); // evicts aaaaaaaa2
  expect(memo.size).toBe(3);
  calls.length = 0;
  count("aaaaaaaa1");
  count("aaaaaaaa2");
  count("short");
  count("short");
  expect(calls).toEqual(["aaaaaaaa2", "short", "short"]);
  expect(memo.size).toBe(3);
  for (let i = 0; i < 1000; i++) count(`a longer piece number ${i}`);
  expect(memo.size).toBe(3);
});

test("text cut into slices counts exactly what the whole text encodes to (specials, whitespace, mixed scripts)", () => {
  const plain = { cl100k_base: new Tiktoken(cl100k), o200k_base: new Tiktoken(o200k) };
  const parts = ["word ", "  ", "\n", "\r\n", "é", "😀", "12345", "<|endoftext|>", "it's ", "=", "\t", "Ünïcödé ", "中文", "x"];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 20; round++) {
    let text = "";
    while (text.length < 5_000) text += parts[Math.floor(random() * parts.length)];
    for (const encoding of encodings) expect(countTextTokens(text, encoding)).toBe(plain[encoding].encode(text, "all").length);
  }
});

test("a sliced count gives the event loop its turns, and the same count as the synchronous one", async () => {
  const hostile = "=-+*&^%$#@!~<>?/|=-+*&^%$#@!~<>?a".repeat(3_000);
  const request = { model: "m", messages: [{ role: "user" as const, content: hostile }] };
  pieceCounts.clear();
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const sliced = await localRequestTokensSliced(structuredClone(request), "cl100k_base");
  ticking = false;
  pieceCounts.clear();
  expect(sliced).toBe(localRequestTokens(structuredClone(request), "cl100k_base"));
  // Counted in one go, nothing else ran until the end; sliced, other work ran between slices.
  expect(turns).toBeGreaterThan(1);
});
