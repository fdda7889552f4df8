import { expect, test } from "bun:test";
import { contentBlockSchema, isKnownBlock, knownBlockTypes, knownContentBlockSchema, messagesRequestSchema } from "../../src/anthropic/schema.ts";
import { readWire } from "../helpers/fake-upstream.ts";
import { readdirSync } from "node:fs";
import { wireDir } from "../helpers/fake-upstream.ts";

// The content-block schema is a discriminated union on `type` plus an open member: the known
// types narrow without casts, and what the real client sends (tool_reference, newer types) passes.

test("the known types are exactly the discriminated union's members", () => {
  expect(knownContentBlockSchema.options.map((option) => option.shape.type.value)).toEqual([...knownBlockTypes]);
});

test("every recorded Claude Code request parses and keeps its blocks unchanged", async () => {
  const files = [
    "claude-code-2.1.328-request.json",
    ...["refactor-two-runs", "large-tool-output"].flatMap((folder) =>
      readdirSync(`${wireDir}claude-code-sessions/${folder}`).map((file) => `claude-code-sessions/${folder}/${file}`),
    ),
  ];
  for (const file of files) {
    const body = (JSON.parse(await readWire(file)) as { body: { messages: unknown } }).body;
    const parsed = messagesRequestSchema.parse(body);
    expect(parsed.messages).toEqual(body.messages as typeof parsed.messages);
  }
});

test("unknown block types are accepted and carried as they came; known ones narrow", () => {
  const toolReference = { type: "tool_reference", tool_name: "WebFetch" };
  const result = contentBlockSchema.parse({ type: "tool_result", tool_use_id: "t", content: [toolReference] });
  expect(result).toEqual({ type: "tool_result", tool_use_id: "t", content: [toolReference] });
  const future = contentBlockSchema.parse({ type: "server_tool_use_2030", id: "x", payload: { a: 1 } });
  expect(future).toEqual({ type: "server_tool_use_2030", id: "x", payload: { a: 1 } });
  expect(isKnownBlock(future)).toBe(false);
  const text = contentBlockSchema.parse({ type: "text", text: "hi", cache_control: { type: "ephemeral" } });
  expect(isKnownBlock(text) && text.type === "text" ? text.text : undefined).toBe("hi");
  // Images and documents with a source type lynkr does not translate pass too (for Anthropic-wire upstreams).
  expect(contentBlockSchema.safeParse({ type: "image", source: { type: "file", file_id: "f" } }).success).toBe(true);
  expect(contentBlockSchema.safeParse({ type: "document", source: { type: "content", content: [] } }).success).toBe(true);
});

test("a known type missing its fields is refused with a message naming it, not carried as opaque", () => {
  const missing = contentBlockSchema.safeParse({ type: "text" });
  expect(missing.success).toBe(false);
  expect(missing.error?.issues.map((issue) => issue.message).join(" ")).toContain("malformed text object");
  expect(contentBlockSchema.safeParse({ type: "tool_use", id: "x" }).success).toBe(false);
  expect(contentBlockSchema.safeParse({ type: "image", source: { type: "base64" } }).success).toBe(false);
});
