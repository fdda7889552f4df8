import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { jsonDepthExceeds } from "../../src/server/json-depth.ts";
import { wireDir } from "../helpers/fake-upstream.ts";

/** The scan one character at a time, as it was before strings were skipped with indexOf. */
function deepestByCharacter(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (code === 0x7d || code === 0x5d) depth--;
  }
  return deepest;
}

function agrees(text: string): void {
  const deepest = deepestByCharacter(text);
  for (const limit of [0, Math.max(0, deepest - 1), deepest, deepest + 1]) {
    expect({ text, limit, exceeds: jsonDepthExceeds(text, limit) }).toEqual({ text, limit, exceeds: deepest > limit });
  }
}

test("skipping strings with indexOf answers as the character-by-character scan on awkward texts", () => {
  const texts = [
    "",
    '"',
    '"\\',
    '["\\\\"]',
    '["\\\\\\"]"]',
    '[["\\""],[["\\\\\\\\"]]]',
    '{"a":"}}}}"}',
    '["unterminated [[[[',
    '[[[ "a\\"[[[" ]]]',
    '\\"[[["',
    '{"k":"\\u0022[[["}',
  ];
  for (const text of texts) agrees(text);
});

test("…on random texts made of the characters that matter", () => {
  const alphabet = ['"', "\\", "[", "]", "{", "}", "a", ":", ","];
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let n = 0; n < 3000; n++) {
    let text = "";
    const length = Math.floor(random() * 40);
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
    agrees(text);
  }
});

test("…on every recorded wire fixture", () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(json|jsonl|sse|txt)$/.test(name)) files.push(path);
    }
  };
  walk(wireDir);
  expect(files.length).toBeGreaterThan(10);
  for (const file of files) agrees(readFileSync(file, "utf8"));
});
