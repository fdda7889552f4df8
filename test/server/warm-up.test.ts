import { expect, test } from "bun:test";
import { messagesRequestSchema } from "../../src/anthropic/schema.ts";
import { warmRequestSchemas, warmUpRequest } from "../../src/server/warm-up.ts";

test("the start-up warm-up request passes the request schemas, so warming parses every block kind", () => {
  expect(warmRequestSchemas()).toBe(true);
  const parsed = messagesRequestSchema.safeParse(warmUpRequest);
  expect(parsed.success).toBe(true);
  // Every content block kind the schemas know is in it: a kind left out is compiled on a real request.
  if (!parsed.success) return;
  const kinds = new Set(parsed.data.messages.flatMap((m) => (typeof m.content === "string" ? ["string"] : m.content.map((b) => b.type))));
  expect([...kinds].sort()).toEqual(["string", "text", "thinking", "tool_result", "tool_use"]);
});
