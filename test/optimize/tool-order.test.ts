import { expect, test } from "bun:test";
import type { Tool } from "../../src/anthropic/schema.ts";
import { reordered, stickyToolOrder } from "../../src/optimize/tool-order.ts";
import { recordedSession } from "./recorded-sessions.ts";

const tool = (name: string): Tool => ({ name, description: `${name} tool`, input_schema: { type: "object", properties: {} } });
const names = (tools: Tool[]) => tools.map((t) => t.name);

test("a tool loaded mid-session is appended, never inserted", () => {
  const first = stickyToolOrder([tool("Agent"), tool("Bash"), tool("ToolSearch"), tool("Write")], []);
  expect(names(first.tools)).toEqual(["Agent", "Bash", "ToolSearch", "Write"]);
  const second = stickyToolOrder([tool("Agent"), tool("Bash"), tool("ToolSearch"), tool("WebFetch"), tool("Write")], first.order);
  expect(names(second.tools)).toEqual(["Agent", "Bash", "ToolSearch", "Write", "WebFetch"]);
  const a = tool("A");
  expect(reordered([a], [a])).toBe(false);
});

test("a tool that leaves and comes back keeps its place", () => {
  const order = ["A", "B", "C"];
  const without = stickyToolOrder([tool("C"), tool("A")], order);
  expect(names(without.tools)).toEqual(["A", "C"]);
  expect(without.order).toEqual(order);
  expect(names(stickyToolOrder([tool("B"), tool("C"), tool("A")], without.order).tools)).toEqual(["A", "B", "C"]);
});

test("the recorded deferred-tool load: WebFetch, which Claude Code puts after ToolSearch, goes last", () => {
  const session = recordedSession("deferred-tool-load");
  const [first, second] = session.map((r) => r.request.tools ?? []);
  if (!first || !second) throw new Error("recording has fewer than two requests");
  expect(names(second).indexOf("WebFetch")).toBeLessThan(second.length - 1);
  const a = stickyToolOrder(first, []);
  const b = stickyToolOrder(second, a.order);
  expect(names(b.tools)).toEqual([...names(first), "WebFetch"]);
  // Same objects, not copies: nothing about a tool changes, only where it stands.
  expect(b.tools.every((t) => second.includes(t))).toBe(true);
});
