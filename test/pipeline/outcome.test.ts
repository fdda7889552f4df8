import { expect, test } from "bun:test";
import { Outcomes, type TurnOutcome } from "../../src/pipeline/outcome.ts";
import { defaultPrices, Prices } from "../../src/usage/prices.ts";
import { configureLogger } from "../../src/observability/logger.ts";
import { turnFor } from "./turn-fixture.ts";

test("every subscriber gets the same frozen outcome once, after the answer went out, even when one of them fails", async () => {
  configureLogger("silent", "json");
  const bus = new Outcomes(new Prices(defaultPrices));
  const got: [string, TurnOutcome][] = [];
  bus.subscribe("broken", () => {
    throw new Error("disk full");
  });
  bus.subscribe("a", (o) => got.push(["a", o]));
  bus.subscribe("b", (o) => got.push(["b", o]));
  const turn = turnFor();
  bus.emit(turn, { route: { provider: { name: "anthropic", kind: "anthropic" }, model: undefined, rule: "static", why: "static", attempts: 1 }, cached: false, status: 200 });
  // Not on the response path.
  expect(got).toEqual([]);
  await Bun.sleep(5);
  expect(got.map(([name]) => name)).toEqual(["a", "b"]);
  expect(got[0]?.[1]).toBe(got[1]?.[1] as TurnOutcome);
  expect(Object.isFrozen(got[0]?.[1])).toBe(true);
  expect(got[0]?.[1]).toMatchObject({ requestId: "req_test", sessionId: "s-1", namedSession: false, status: 200, response: undefined, usage: undefined });
});

test("usage and cost are worked out once, from the request that went upstream and the answer", async () => {
  const bus = new Outcomes(new Prices(defaultPrices));
  let outcome: TurnOutcome | undefined;
  bus.subscribe("x", (o) => {
    outcome = o;
  });
  const response = {
    id: "m",
    type: "message" as const,
    role: "assistant" as const,
    model: "claude-3-opus-20240229",
    content: [{ type: "text" as const, text: "hi" }],
    stop_reason: "end_turn" as const,
    stop_sequence: null,
    usage: { input_tokens: 15, output_tokens: 13 },
  };
  bus.emit(turnFor(), { route: { provider: { name: "anthropic", kind: "anthropic" }, model: undefined, rule: "static", why: "static", attempts: 1 }, cached: false, status: 200, response });
  await Bun.sleep(5);
  expect(outcome?.costUsd).toBeCloseTo(0.0012, 10);
  expect(outcome?.savedUsd).toBeUndefined();
});
