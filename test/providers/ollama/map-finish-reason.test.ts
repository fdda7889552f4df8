import { expect, test } from "bun:test";
import { mapFinishReason } from "../../../src/providers/ollama/map-finish-reason.ts";
import { ollamaChunkSchema } from "../../../src/providers/ollama/stream.ts";
import { recordedJson, recordedLines } from "../recorded.ts";

// done_reason → stop_reason, fed the recorded streams' final objects and tool calls.

async function facts(path: string) {
  const objects = path.endsWith(".json") ? [await recordedJson(path)] : await recordedLines(path);
  let toolUses = 0;
  let doneReason: string | null | undefined;
  for (const object of objects) {
    const chunk = ollamaChunkSchema.parse(object);
    if ("error" in chunk) continue;
    toolUses += chunk.message?.tool_calls?.length ?? 0;
    if (chunk.done) doneReason = chunk.done_reason;
  }
  return { doneReason, toolUses };
}

test.each([
  ["ollama/chat-stream-text.ndjson", "end_turn"],
  ["ollama/chat-stream-thinking-cloud.ndjson", "end_turn"],
  ["ollama/chat-stream-tool-call.docs-example.ndjson", "tool_use"],
  ["ollama/chat-tool-call-thinking-cloud.json", "tool_use"],
])("%s → %s", async (path, expected) => {
  const { doneReason, toolUses } = await facts(path);
  expect(mapFinishReason(doneReason, toolUses)).toBe(expected);
});

test("length is a real cut: max_tokens (Claude Code continues), even after a tool call", () => {
  expect(mapFinishReason("length", 0)).toBe("max_tokens");
  expect(mapFinishReason("length", 1)).toBe("max_tokens");
});
