import { expect, test } from "bun:test";
import { forEachDeltaText, type TextKind } from "../../../src/providers/openai-chat/convert-delta-text.ts";
import { chunksOf } from "./recorded-chunks.ts";
import { concatenated, recordedChunks } from "./replay.ts";

// Each recorded stream's deltas → thinking and text, in order.

async function texts(path: string): Promise<{ thinking: string; text: string; order: TextKind[] }> {
  const out = { thinking: "", text: "", order: [] as TextKind[] };
  for (const chunk of await chunksOf(path)) {
    for (const choice of chunk.choices ?? []) {
      if (!choice.delta) continue;
      forEachDeltaText(choice.delta, (kind, text, into) => {
        into[kind] += text;
        if (text && into.order.at(-1) !== kind) into.order.push(kind);
      }, out);
    }
  }
  return out;
}

test.each([
  "deepseek-or-reasoning/deepseek-stream-reasoning.sse",
  "deepseek-or-reasoning/zai-stream-reasoning.sse",
  "openrouter/stream-reasoning-details-processing-comments.sse",
  "llamacpp/stream-excerpt-timings-every-chunk.sse",
  "openai-chat/stream-text.sse",
])("%s: reasoning fields are thinking, content is text, thinking first", async (path) => {
  const got = await texts(path);
  const oracle = concatenated(await recordedChunks(path));
  expect(got.thinking).toBe(oracle.reasoning);
  expect(got.text).toBe(oracle.text);
  expect(got.order.indexOf("thinking")).toBeLessThanOrEqual(0);
});

test("Mistral's typed content parts: the thinking part's nested text is thinking, the text part is text", async () => {
  const got = await texts("deepseek-or-reasoning/mistral-stream-thinking-content-array.chunks.txt");
  expect(got.order).toEqual(["thinking", "text"]);
  expect(got.thinking.length).toBeGreaterThan(0);
  expect(got.text.length).toBeGreaterThan(0);
});

test("Databricks' reasoning summaries are thinking; a refusal is shown as text", () => {
  const got: Record<TextKind, string> = { thinking: "", text: "" };
  const emit = (kind: TextKind, text: string, into: Record<TextKind, string>) => {
    into[kind] += text;
  };
  forEachDeltaText({ content: [{ type: "reasoning", summary: [{ type: "summary_text", text: "weighing" }] }, { type: "text", text: "Answer" }] }, emit, got);
  forEachDeltaText({ refusal: "I can't help with that." }, emit, got);
  expect(got).toEqual({ thinking: "weighing", text: "AnswerI can't help with that." });
});
