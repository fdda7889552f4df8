import { beforeEach, expect, test } from "bun:test";
import { calibrated, calibrationOf, observePromptCount, resetCalibration } from "../../src/optimize/calibration.ts";
import { encodingFor } from "../../src/optimize/encodings.ts";
import { calibrateFromUsage, countRequestTokens, localRequestTokens } from "../../src/optimize/tokens.ts";
import { recordedSession } from "./recorded-sessions.ts";

beforeEach(() => resetCalibration());

test("each model family counts with its own tokenizer", () => {
  for (const model of ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5", "openai/gpt-5-mini", "o1", "o3-mini", "o4-mini", "gpt-oss-120b", "azure/gpt-4.1-nano"]) {
    expect({ model, encoding: encodingFor(model) }).toEqual({ model, encoding: "o200k_base" });
  }
  for (const model of ["gpt-4", "gpt-4-turbo", "gpt-3.5-turbo", "claude-opus-5-5", "qwen2.5-coder:7b", "llama-3.3-70b", "omni-moderation"]) {
    expect({ model, encoding: encodingFor(model) }).toEqual({ model, encoding: "cl100k_base" });
  }
  expect(encodingFor(undefined)).toBe("cl100k_base");
});

test("o200k and cl100k count the same recorded request differently, and each is what countRequestTokens gives its model", () => {
  const request = recordedSession("refactor-two-runs")[0]?.request;
  if (!request) throw new Error("no recording");
  const o200k = localRequestTokens(request, "o200k_base");
  const cl100k = localRequestTokens(request, "cl100k_base");
  expect(o200k).not.toBe(cl100k);
  expect(countRequestTokens(request, "gpt-4o")).toBe(o200k);
  expect(countRequestTokens(request, "gpt-4")).toBe(cl100k);
  expect(countRequestTokens(request)).toBe(cl100k);
});

test("after a few answers the local count lands within 3% of what the upstream reports", () => {
  // A backend whose template adds 9% plus a little noise per answer.
  const session = recordedSession("refactor-two-runs").map((r) => r.request);
  const truth = (local: number, i: number) => Math.round(local * (1.09 + ((i % 3) - 1) * 0.01));
  for (const [i, request] of session.slice(0, 5).entries()) {
    calibrateFromUsage("local-model", request, truth(localRequestTokens(request, "cl100k_base"), i));
  }
  for (const [i, request] of session.slice(5).entries()) {
    const reported = truth(localRequestTokens(request, "cl100k_base"), i);
    const estimate = countRequestTokens(request, "local-model");
    expect(Math.abs(estimate - reported) / reported).toBeLessThan(0.03);
  }
  expect(calibrationOf("local-model")?.samples).toBe(5);
});

test("implausible reports (another prompt's usage) do not move the ratio; unknown models are not scaled", () => {
  observePromptCount("m", 1000, 1100);
  observePromptCount("m", 1000, 50);
  observePromptCount("m", 1000, 9000);
  expect(calibrationOf("m")).toEqual({ ratio: 1.1, samples: 1 });
  expect(calibrated("m", 2000)).toBe(2200);
  expect(calibrated("other", 2000)).toBe(2000);
  expect(calibrated(undefined, 2000)).toBe(2000);
});
