import { expect, test } from "bun:test";
import { convertReasoningEffort } from "../../../src/providers/openai-chat/convert-reasoning-effort.ts";
import { freshRequest } from "../recorded.ts";

// Anthropic thinking → OpenAI reasoning effort.

test("Claude Code's main loop (adaptive thinking, effort medium) asks for medium", async () => {
  const request = await freshRequest();
  expect(request.thinking?.type).toBe("adaptive");
  expect(convertReasoningEffort(request)).toBe("medium");
  expect(convertReasoningEffort({ ...request, output_config: { effort: "max" } })).toBe("high");
  expect(convertReasoningEffort({ ...request, output_config: { effort: "minimal" } })).toBe("low");
  expect(convertReasoningEffort({ ...request, output_config: undefined })).toBe("medium");
});

test("a haiku subagent's budget (31999 tokens) is high; small budgets are low; disabled says nothing", async () => {
  const request = await freshRequest();
  const budget = (budget_tokens: number) => ({ ...request, output_config: undefined, thinking: { type: "enabled", budget_tokens } });
  expect(convertReasoningEffort(budget(31999))).toBe("high");
  expect(convertReasoningEffort(budget(8000))).toBe("medium");
  expect(convertReasoningEffort(budget(1024))).toBe("low");
  expect(convertReasoningEffort({ ...request, thinking: { type: "disabled" } })).toBeUndefined();
  expect(convertReasoningEffort({ ...request, thinking: undefined, output_config: undefined })).toBeUndefined();
});
