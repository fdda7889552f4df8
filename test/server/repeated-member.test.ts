import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isDeeplyFrozen } from "../../src/anthropic/deep-freeze.ts";
import { scanJson } from "../../src/server/json-depth.ts";
import { RepeatedMember } from "../../src/server/repeated-member.ts";
import { wireDir } from "../helpers/fake-upstream.ts";

function sessionBodies(): string[] {
  const out: string[] = [];
  const sessions = join(wireDir, "claude-code-sessions");
  for (const dir of readdirSync(sessions).sort()) {
    if (!statSync(join(sessions, dir)).isDirectory()) continue;
    for (const file of readdirSync(join(sessions, dir)).sort()) {
      if (file.endsWith(".json")) out.push(JSON.stringify((JSON.parse(readFileSync(join(sessions, dir, file), "utf8")) as { body: unknown }).body));
    }
  }
  return out;
}

const parse = (member: RepeatedMember, text: string) => member.parse(text, scanJson(text, 128, member.name).member);

test("each recorded session, turn by turn, parses to what JSON.parse gives, key order included; repeated tools are shared and frozen", () => {
  const tools = new RepeatedMember("tools");
  const bodies = sessionBodies();
  let shared = 0;
  const seen = new Map<string, unknown>();
  for (const text of [...bodies, ...bodies]) {
    const expected = JSON.parse(text) as { tools?: unknown };
    const got = parse(tools, text) as { tools?: unknown };
    expect(got).toEqual(expected);
    expect(JSON.stringify(got)).toBe(JSON.stringify(expected));
    if (expected.tools === undefined) continue;
    const key = JSON.stringify(expected.tools);
    if (seen.get(key) === got.tools) shared++;
    seen.set(key, got.tools);
    expect(isDeeplyFrozen(got.tools)).toBe(true);
  }
  expect(shared).toBeGreaterThan(bodies.length / 2);
});

test("a body that is not JSON fails with JSON.parse's own words, kept tools or not", () => {
  const tools = new RepeatedMember("tools");
  parse(tools, '{"model":"m","tools":[{"name":"a"}]}');
  for (const bad of ['{"model":"m" "tools":[{"name":"a"}]}', '{"model":"m","tools":[{"name":"a"}],}', '{"model":"m","tools":[{"name":"a"}]']) {
    let expected = "";
    try {
      JSON.parse(bad);
    } catch (error) {
      expected = (error as Error).message;
    }
    expect(expected).not.toBe("");
    expect(() => parse(tools, bad)).toThrow(expected);
  }
});

test("only the last few tools texts are kept", () => {
  const tools = new RepeatedMember("tools", 2);
  const body = (n: number) => `{"tools":[{"name":"t${n}"}]}`;
  const first = (parse(tools, body(1)) as { tools: unknown }).tools;
  expect((parse(tools, body(1)) as { tools: unknown }).tools).toBe(first);
  parse(tools, body(2));
  parse(tools, body(3));
  const again = (parse(tools, body(1)) as { tools: unknown }).tools;
  expect(again).not.toBe(first);
  expect(again).toEqual(first);
});
