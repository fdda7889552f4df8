import { expect, test } from "bun:test";
import { Outcomes, type TurnOutcome } from "../../src/pipeline/outcome.ts";
import { configureLogger } from "../../src/observability/logger.ts";
import { turnFor } from "./turn-fixture.ts";

test("every subscriber gets the same frozen outcome once, after the answer went out, even when one of them fails", async () => {
  configureLogger("silent", "json");
  const bus = new Outcomes();
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

test("what the turn spent comes from its settlement, made at the latest when the outcome is", async () => {
  const bus = new Outcomes();
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
  const turn = turnFor();
  const settled: unknown[] = [];
  turn.settle = (answer) => {
    settled.push(answer);
    return { usage: { input_tokens: 15, output_tokens: 13, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, estimated: false }, costUsd: 0.0012, savedUsd: undefined };
  };
  const route = { provider: { name: "anthropic", kind: "anthropic" }, model: undefined, rule: "static" as const, why: "static", attempts: 1 };
  bus.emit(turn, { route, cached: false, status: 200, response });
  await Bun.sleep(5);
  expect(settled).toEqual([{ response, provider: route.provider, cached: false }]);
  expect(outcome?.costUsd).toBe(0.0012);
  expect(outcome?.usage?.output_tokens).toBe(13);
});
