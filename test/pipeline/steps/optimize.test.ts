import { expect, test } from "bun:test";
import { Optimizer } from "../../../src/optimize/index.ts";
import type { Provider } from "../../../src/providers/types.ts";
import { optimizeStep } from "../../../src/pipeline/steps/optimize.ts";
import type { Route } from "../../../src/routing/router.ts";
import { contextFor, request, turnFor } from "../turn-fixture.ts";

const optimizer = () => new Optimizer({ profile: "auto", disabled: [], smallWindowTokens: 16_000, clearTrigger: 0.85, clearTarget: 0.5, keepToolResults: 1, maxSessions: 100 });

function provider(kind: string, contextWindow: number | undefined): Provider {
  return {
    name: kind,
    kind,
    model: "m",
    endpoint: "http://127.0.0.1:1",
    stream: () => Promise.reject(new Error("not called")),
    listModels: async () => [],
    modelLimits: async () => ({ model: "m", contextWindow }),
  };
}

const routeTo = (p: Provider): Route => ({ chain: [{ provider: p }], rule: "static", reason: "static" });
const tools = [
  { name: "Read", description: "Read a file", input_schema: { type: "object", properties: { path: { type: "string" } } } },
  { name: "Bash", description: "Run a command", input_schema: { type: "object", properties: { command: { type: "string" } } } },
];

test("the step itself changes nothing: it sets how each model call is shaped, which the call step applies", async () => {
  const turn = turnFor(request({ tools }));
  const before = turn.request;
  expect(optimizeStep(optimizer(), { primary: provider("openai", 128_000) }).run(turn)).toBeUndefined();
  expect(turn.request).toBe(before);
  expect(turn.shape).toBeDefined();
});

test("an Anthropic-wire route gets Claude Code's request as it is, and says so", async () => {
  const turn = turnFor(request({ tools }));
  const anthropic = provider("anthropic", 200_000);
  optimizeStep(optimizer(), { primary: anthropic }).run(turn);
  const shaped = await turn.shape?.(turn.request, routeTo(anthropic), contextFor());
  expect(shaped).toBe(turn.request);
  expect(turn.optimized?.profile).toBe("off");
  expect(turn.ctx.facts.optimize?.profile).toBe("off");
});

test("a client's x-lynkr-optimize header picks the profile for its request, and a bad one is a 400 naming it", async () => {
  const openai = provider("openai", 8_000);
  const off = turnFor(request({ tools }), contextFor({ "x-lynkr-optimize": "off" }));
  optimizeStep(optimizer(), { primary: openai }).run(off);
  await off.shape?.(off.request, routeTo(openai), off.ctx);
  expect(off.optimized?.profile).toBe("off");

  const bad = turnFor(request({ tools }), contextFor({ "x-lynkr-optimize": "turbo" }));
  optimizeStep(optimizer(), { primary: openai }).run(bad);
  await expect(bad.shape?.(bad.request, routeTo(openai), bad.ctx)).rejects.toThrow("x-lynkr-optimize");
});
