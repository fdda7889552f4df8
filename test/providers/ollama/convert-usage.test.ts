import { expect, test } from "bun:test";
import { convertUsage } from "../../../src/providers/ollama/convert-usage.ts";
import { ollamaChunkSchema } from "../../../src/providers/ollama/stream.ts";
import { recordedLines } from "../recorded.ts";

test.each([
  ["ollama/chat-stream-text.ndjson", { input_tokens: 16, output_tokens: 22 }],
  ["ollama/chat-stream-thinking-cloud.ndjson", { input_tokens: 74, output_tokens: 57 }],
  ["ollama/chat-stream-tool-call.docs-example.ndjson", { input_tokens: 169, output_tokens: 15 }],
])("the final object of %s → %o", async (path, expected) => {
  const last = ollamaChunkSchema.parse((await recordedLines(path)).at(-1));
  if ("error" in last || !last.done) throw new Error("the recording ends with its done object");
  expect(convertUsage(last)).toEqual(expected);
});

test("counts Ollama left out are 0", () => {
  expect(convertUsage({})).toEqual({ input_tokens: 0, output_tokens: 0 });
});
