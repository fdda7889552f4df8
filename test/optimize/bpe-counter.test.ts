import { expect, test } from "bun:test";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import { BpeCounter } from "../../src/optimize/bpe-counter.ts";
import { readWire } from "../helpers/fake-upstream.ts";
import { recordedSession, recordedSessionNames } from "./recorded-sessions.ts";

// The compact counter must count exactly what js-tiktoken's encode(text, "all").length gives:
// token counts feed routing thresholds, budgets and calibration, and tests elsewhere compare them.

const rankFiles = { cl100k_base: cl100k, o200k_base: o200k };

function samples(): string[] {
  const parts = ["word ", "  ", "\n", "\r\n", "é", "😀", "12345", "<|endoftext|>", "<|endofprompt|>", "it's ", "=", "\t", "Ünïcödé ", "中文", "x", "'ll", "ﬁ", "\u0000", "👩‍👩‍👧", "{\"a\":[1,2]}"];
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const texts = ["", "a", " ", "hello world", "<|endoftext|>"];
  for (let round = 0; round < 30; round++) {
    let text = "";
    const length = 50 + Math.floor(random() * 3_000);
    while (text.length < length) text += parts[Math.floor(random() * parts.length)];
    texts.push(text);
  }
  // Every byte value in a piece of its own, and long pieces that need many merges.
  texts.push(Array.from({ length: 0x2ff }, (_, i) => String.fromCharCode(i)).join(""));
  texts.push("abcdefghijklmnopqrstuvwxyz".repeat(4), "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "=-".repeat(40), "😀".repeat(30));
  return texts;
}

for (const [name, ranks] of Object.entries(rankFiles)) {
  test(`${name}: counts exactly as js-tiktoken on mixed scripts, specials, every byte and long merges`, () => {
    const plain = new Tiktoken(ranks);
    const counter = new BpeCounter(ranks);
    for (const text of samples()) expect({ text, count: counter.count(text) }).toEqual({ text, count: plain.encode(text, "all").length });
  });

  test(`${name}: counts every recorded Claude Code request exactly as js-tiktoken`, async () => {
    const plain = new Tiktoken(ranks);
    const counter = new BpeCounter(ranks);
    const recorded = await readWire("claude-code-2.1.328-request.json");
    expect(counter.count(recorded)).toBe(plain.encode(recorded, "all").length);
    for (const session of recordedSessionNames) {
      for (const { request } of recordedSession(session)) {
        const text = JSON.stringify(request);
        expect(counter.count(text)).toBe(plain.encode(text, "all").length);
      }
    }
  });
}

test("the table is built a batch at a time, each batch short, and counts the same as built at once", () => {
  const sliced = new BpeCounter(o200k);
  let batches = 0;
  while (!sliced.build()) batches++;
  expect(sliced.ready).toBe(true);
  // o200k holds ~200,000 tokens: dozens of batches, each a few thousand tokens.
  expect(batches).toBeGreaterThan(20);
  const text = samples().join("");
  expect(sliced.count(text)).toBe(new BpeCounter(o200k).count(text));
});

test("warming a tokenizer builds it in the background, giving the event loop its turns, and a calibration before it is built does not build it in one go", async () => {
  // In a process of its own: this one's tests have built the shared tokenizers already.
  const script = `
    const { encoderBuilt } = await import(${JSON.stringify(`${import.meta.dir}/../../src/optimize/encodings.ts`)});
    const { calibrateFromUsage, warmTokenizer } = await import(${JSON.stringify(`${import.meta.dir}/../../src/optimize/tokens.ts`)});
    let turns = 0;
    let ticking = true;
    const tick = () => { turns++; if (ticking) setImmediate(tick); };
    setImmediate(tick);
    const request = { model: "gpt-4o", messages: [{ role: "user", content: "hello there" }] };
    calibrateFromUsage("gpt-4o", request, 12);
    const builtAfterCalibrating = encoderBuilt("o200k_base");
    await warmTokenizer("gpt-4o");
    ticking = false;
    console.log(JSON.stringify({ builtAfterCalibrating, built: encoderBuilt("o200k_base"), turns }));
  `;
  const proc = Bun.spawn(["bun", "--no-env-file", "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  const result = JSON.parse(out) as { builtAfterCalibrating: boolean; built: boolean; turns: number };
  expect(result.builtAfterCalibrating).toBe(false);
  expect(result.built).toBe(true);
  // ~50 batches, a turn of the loop at least every 64 of them or every 3 ms.
  expect(result.turns).toBeGreaterThan(1);
});
