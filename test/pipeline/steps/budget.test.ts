import { expect, test } from "bun:test";
import { RateLimitError } from "../../../src/anthropic/errors.ts";
import { budgetStep } from "../../../src/pipeline/steps/budget.ts";
import { openDatabase } from "../../../src/store/db.ts";
import { Budgets } from "../../../src/usage/budgets.ts";
import { UsageStore } from "../../../src/usage/store.ts";
import { turnFor } from "../turn-fixture.ts";

const usageRow = (sessionId: string, costUsd: number) => ({
  requestId: `r-${sessionId}`,
  sessionId,
  client: "ip:127.0.0.1",
  provider: "anthropic",
  model: "claude-x",
  usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, estimated: false },
  costUsd,
  cached: false,
  savedUsd: undefined,
});

test("a session over its budget is refused before any call, and the facts say why", () => {
  const usage = new UsageStore(openDatabase(":memory:"));
  const step = budgetStep(new Budgets({ BUDGET_SESSION_USD: 0.01, BUDGET_KEY_DAILY_USD: undefined, BUDGET_DAILY_USD: undefined }, usage));
  usage.record(usageRow("spent", 0.02));
  const turn = turnFor();
  turn.namedSession = "spent";
  turn.sessionId = "spent";
  expect(() => step.run(turn)).toThrow(RateLimitError);
  expect(turn.ctx.facts.rejected).toBe("over_budget");

  const other = turnFor();
  other.namedSession = "fresh";
  other.sessionId = "fresh";
  expect(step.run(other)).toBeUndefined();
  expect(other.ctx.facts.rejected).toBeUndefined();
});
