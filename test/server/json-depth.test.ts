import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { scanJson } from "../../src/server/json-depth.ts";
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
    expect({ text, limit, exceeds: scanJson(text, limit).tooDeep }).toEqual({ text, limit, exceeds: deepest > limit });
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

describe("the top-level member it finds on the way", () => {
  const recorded = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith(".json")) {
          const value = JSON.parse(readFileSync(path, "utf8")) as { body?: unknown };
          if (value.body && typeof value.body === "object") out.push(JSON.stringify(value.body), JSON.stringify(value.body, null, 2));
        }
      }
    };
    walk(wireDir);
    return out;
  };

  test("is where JSON.parse finds `tools`, in every recorded request, compact or indented", () => {
    let found = 0;
    for (const text of recorded()) {
      const parsed = JSON.parse(text) as { tools?: unknown };
      const { tooDeep, member } = scanJson(text, 128, "tools");
      expect(tooDeep).toBe(false);
      if (!Array.isArray(parsed.tools)) {
        expect(member).toBeUndefined();
        continue;
      }
      found++;
      expect(member).toBeDefined();
      const [start, end] = member as [number, number];
      expect(JSON.parse(text.slice(start, end))).toEqual(parsed.tools);
      expect(JSON.parse(`${text.slice(0, start)}0${text.slice(end)}`)).toEqual({ ...parsed, tools: 0 });
    }
    expect(found).toBeGreaterThan(15);
  });

  test("is not given where JSON.parse might keep another value", () => {
    const none = (text: string) => expect(scanJson(text, 128, "tools").member).toBeUndefined();
    none('{"tools":[1],"tools":[2]}');
    none('{"tools":[1],"tools":null}');
    none('{"tools":[1],"tool\\u0073":[2]}');
    none('{"a\\"b":1,"tools":[1]}');
    none('[{"tools":[1]}]');
    none('{"tools":{"x":[1]}}');
    none('{"tools":"[1]"}');
    none('{"x":{"tools":[1]}}');
    none('{"tools":[1');
    const spaced = ' \n{ "x" : [ ] , "tools" : [ {"tools":[]} , "]" ] }';
    const [start, end] = scanJson(spaced, 128, "tools").member ?? [0, 0];
    expect(spaced.slice(start, end)).toBe('[ {"tools":[]} , "]" ]');
    expect(scanJson('{"tools":[1]}', 128).member).toBeUndefined();
  });
});
