import { expect, test } from "bun:test";
import { RetryBudget } from "../../src/routing/retry-budget.ts";

test("retries in flight stay under the budget's share of requests in flight, never under its floor", () => {
  const budget = new RetryBudget({ percent: 20, min: 2 });
  const requests = Array.from({ length: 20 }, () => budget.begin());
  const retries = Array.from({ length: 6 }, () => budget.tryRetry());
  // 20% of 20 requests: 4 retries at once, the 5th and 6th are refused.
  expect(retries.map((r) => r !== undefined)).toEqual([true, true, true, true, false, false]);
  retries[0]?.();
  retries[0]?.();
  expect(budget.inFlight.retries).toBe(3);
  expect(budget.tryRetry()).toBeDefined();
  for (const done of requests.slice(2)) done();
  // 2 requests left: 20% is 0, the floor of 2 still applies (4 retries already in flight: none more).
  expect(budget.inFlight).toEqual({ requests: 2, retries: 4 });
  expect(budget.tryRetry()).toBeUndefined();
  const quiet = new RetryBudget({ percent: 20, min: 2 });
  quiet.begin();
  expect([quiet.tryRetry(), quiet.tryRetry(), quiet.tryRetry()].map((r) => r !== undefined)).toEqual([true, true, false]);
});
