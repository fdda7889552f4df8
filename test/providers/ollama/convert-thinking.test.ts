import { expect, test } from "bun:test";
import { convertThinking } from "../../../src/providers/ollama/convert-thinking.ts";
import { freshRequest } from "../recorded.ts";

test("Claude Code's adaptive thinking: on for a thinking model, its effort for a model with levels (gpt-oss)", async () => {
  const request = await freshRequest();
  expect(convertThinking(request, { thinking: true, thinkLevels: [] })).toBe(true);
  expect(convertThinking(request, { thinking: true, thinkLevels: ["low", "medium", "high"] })).toBe("medium");
  expect(convertThinking({ ...request, output_config: { effort: "high" } }, { thinking: true, thinkLevels: ["low", "medium", "high"] })).toBe("high");
  expect(convertThinking({ ...request, output_config: { effort: "max" } }, { thinking: true, thinkLevels: ["low", "medium", "high"] })).toBe("medium");
  expect(convertThinking({ ...request, output_config: { effort: "max" } }, { thinking: true, thinkLevels: ["low", "high"] })).toBe("low");
});

test("a model that cannot think gets no `think`; disabled thinking is false", async () => {
  const request = await freshRequest();
  expect(convertThinking(request, { thinking: false, thinkLevels: [] })).toBeUndefined();
  expect(convertThinking({ ...request, thinking: { type: "disabled" } }, { thinking: true, thinkLevels: [] })).toBe(false);
  expect(convertThinking({ ...request, thinking: undefined }, { thinking: true, thinkLevels: [] })).toBeUndefined();
});
