import { expect, test } from "bun:test";
import { mapFinishReason } from "../../../src/providers/openai-chat/map-finish-reason.ts";
import { chunksOf } from "./recorded-chunks.ts";

// finish_reason → stop_reason, fed the recorded streams' own finish reasons and tool calls.

async function facts(path: string) {
  let finishReason: string | undefined;
  const toolIds = new Set<string>();
  for (const chunk of await chunksOf(path)) {
    for (const choice of chunk.choices ?? []) {
      if (choice.finish_reason) finishReason = choice.finish_reason;
      for (const call of choice.delta?.tool_calls ?? []) toolIds.add(String(call.index ?? call.id));
    }
  }
  return { finishReason, toolUses: toolIds.size, stopSequence: null };
}

test.each([
  ["openai-chat/stream-text.sse", "end_turn"],
  ["openai-chat/stream-single-tool-call.sse", "tool_use"],
  ["openai-chat/stream-parallel-tool-calls-no-args.sse", "tool_use"],
  ["openrouter/stream-tool-call-name-then-args.sse", "tool_use"],
  ["deepseek-or-reasoning/deepseek-stream-reasoning-then-tool-call.chunks.txt", "tool_use"],
  ["llamacpp/completion-reasoning-length-empty-content.json", "max_tokens"],
  ["openrouter/stream-midstream-error-token-limit.sse", "max_tokens"],
  ["deepseek-or-reasoning/zai-stream-reasoning.sse", "end_turn"],
])("%s → %s", async (path, expected) => {
  expect(mapFinishReason(await facts(path))).toBe(expected);
});

test("tool_use exactly when tool calls exist, whatever the server said", () => {
  expect(mapFinishReason({ finishReason: "stop", toolUses: 1, stopSequence: null })).toBe("tool_use");
  expect(mapFinishReason({ finishReason: "tool_calls", toolUses: 0, stopSequence: null })).toBe("end_turn");
  expect(mapFinishReason({ finishReason: undefined, toolUses: 0, stopSequence: null })).toBe("end_turn");
});

test("content_filter is a refusal; a matched stop sequence is stop_sequence", () => {
  expect(mapFinishReason({ finishReason: "content_filter", toolUses: 0, stopSequence: null })).toBe("refusal");
  expect(mapFinishReason({ finishReason: "stop", toolUses: 0, stopSequence: "END" })).toBe("stop_sequence");
});
