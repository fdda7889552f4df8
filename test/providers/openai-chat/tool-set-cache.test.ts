import { expect, test } from "bun:test";
import type { ChatCompletionFunctionTool } from "openai/resources/chat/completions";
import type { Tool } from "../../../src/anthropic/schema.ts";
import { deepFreeze } from "../../../src/anthropic/deep-freeze.ts";
import { sameJson } from "../../../src/anthropic/same-json.ts";
import { ToolSetCache } from "../../../src/providers/openai-chat/tool-set-cache.ts";
import { functionTool } from "../../../src/providers/tool-schema.ts";

const read: Tool = { name: "Read", description: "Reads a file", input_schema: { type: "object", properties: { path: { type: "string", enum: ["a", "b"] } } } };
const write: Tool = { name: "Write", input_schema: { type: "object", properties: { path: { type: "string" }, text: { type: "string" } } } };
const convert = (tools: readonly Tool[]) => tools.map(functionTool);

test("sameJson: equal exactly where JSON.stringify would write the same text", () => {
  expect(sameJson({ a: 1, b: [1, "x", null, { c: true }] }, { a: 1, b: [1, "x", null, { c: true }] })).toBe(true);
  expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
  expect(sameJson([1, 2], [1, 2, 3])).toBe(false);
  expect(sameJson({ a: [] }, { a: {} })).toBe(false);
  expect(sameJson({ a: null }, { a: {} })).toBe(false);
  expect(sameJson({ a: "1" }, { a: 1 })).toBe(false);
  expect(sameJson({ a: { b: "x" } }, { a: { b: "y" } })).toBe(false);
});

test("a tool set equal to one converted before gets the same frozen conversion and its JSON", () => {
  const cache = new ToolSetCache();
  let conversions = 0;
  const counting = (tools: readonly Tool[]) => {
    conversions++;
    return convert(tools);
  };
  const first = cache.convert(structuredClone([read, write]), counting);
  const again = cache.convert(structuredClone([read, write]), counting);
  expect(again).toBe(first);
  expect(conversions).toBe(1);
  expect(Object.isFrozen(first) && Object.isFrozen(first[0]?.function.parameters)).toBe(true);
  expect(new TextDecoder().decode(cache.jsonOf(first))).toBe(JSON.stringify(convert([read, write])));
  // An array the cache did not make has no kept JSON, even if equal.
  expect(cache.jsonOf(convert([read, write]) as ChatCompletionFunctionTool[])).toBeUndefined();
  expect(cache.jsonOf(undefined)).toBeUndefined();
});

test("any difference, order included, is another set; the client's objects are neither kept nor frozen", () => {
  const cache = new ToolSetCache();
  const tools = structuredClone([read, write]);
  const first = cache.convert(tools, convert);
  expect(Object.isFrozen(tools[0]) || Object.isFrozen((tools[0]?.input_schema?.properties as { path: { enum: string[] } }).path.enum)).toBe(false);
  // The request's objects changing afterwards change nothing kept.
  (tools[0] as { description?: string }).description = "changed";
  expect(cache.convert(structuredClone([read, write]), convert)).toBe(first);
  expect(cache.convert(structuredClone([write, read]), convert)).not.toBe(first);
  const edited = structuredClone([read, write]);
  (edited[1]?.input_schema?.properties as Record<string, unknown>).text = { type: "number" };
  const other = cache.convert(edited, convert);
  expect(other).not.toBe(first);
  expect(new TextDecoder().decode(cache.jsonOf(other))).toBe(JSON.stringify(convert(edited)));
});

test("a conversion that throws keeps nothing; only the last few sets are kept", () => {
  const cache = new ToolSetCache(2);
  const failing = () => {
    throw new Error("built-in tool");
  };
  expect(() => cache.convert([read], failing)).toThrow("built-in tool");
  expect(() => cache.convert([read], failing)).toThrow("built-in tool");
  const a = cache.convert([read], convert);
  cache.convert([write], convert);
  expect(cache.convert([read], convert)).toBe(a);
  cache.convert([write, read], convert);
  cache.convert([read, write], convert);
  expect(cache.convert([read], convert)).not.toBe(a);
});

test("deeply frozen tools that matched once match again, in a new array too; unfrozen ones are walked each time", () => {
  const cache = new ToolSetCache();
  const shared = deepFreeze(structuredClone([read, write]));
  const first = cache.convert(shared, convert);
  expect(cache.convert(shared, convert)).toBe(first);
  expect(cache.convert([...shared], convert)).toBe(first);
  // An equal but unfrozen set is compared value by value, and a changed one is told apart.
  const loose = structuredClone([read, write]);
  expect(cache.convert(loose, convert)).toBe(first);
  (loose[0] as { description?: string }).description = "changed";
  expect(cache.convert(loose, convert)).not.toBe(first);
});
