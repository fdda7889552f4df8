import { expect, test } from "bun:test";
import { RateLimitError } from "../../../src/anthropic/errors.ts";
import type { Message } from "../../../src/anthropic/schema.ts";
import type { Provider } from "../../../src/providers/types.ts";
import { budgetStep } from "../../../src/pipeline/steps/budget.ts";
import { openDatabase } from "../../../src/store/db.ts";
import { Budgets } from "../../../src/usage/budgets.ts";
import { defaultPrices, Prices } from "../../../src/usage/prices.ts";
import { RateLimiter } from "../../../src/usage/rate-limiter.ts";
import { UsageStore } from "../../../src/store/usage.ts";
import { request, turnFor } from "../turn-fixture.ts";

const anthropic = { name: "anthropic", kind: "anthropic", model: undefined } as Provider;
const opus = "claude-3-opus-20240229";
const answer: Message = {
  id: "m",
  type: "message",
  role: "assistant",
  model: opus,
  content: [{ type: "text", text: "hi" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 15, output_tokens: 13 },
};

function setUp(sessionUsd: number) {
  const db = openDatabase(":memory:");
  const usage = new UsageStore(db);
  const budgets = new Budgets({ BUDGET_SESSION_USD: sessionUsd, BUDGET_KEY_DAILY_USD: undefined, BUDGET_DAILY_USD: undefined, BUDGET_ALLOW_UNPRICED: false }, usage);
  const limiter = new RateLimiter({ requestsPerMinute: 0, tokensPerMinute: 0 }, new Map());
  const step = budgetStep({ budgets, limiter, usage, prices: new Prices(defaultPrices), router: { primary: anthropic } });
  const turnIn = (session: string) => {
    const turn = turnFor(request({ model: opus, max_tokens: 16 }));
    turn.namedSession = session;
    turn.sessionId = session;
    return turn;
  };
  return { db, usage, step, turnIn };
}

test("an answer is settled once: its usage row is written at once (what budgets count), and the next turn of the session is refused", async () => {
  // A turn may cost up to ~$0.0017 (its input estimate and 16 output tokens at Opus prices); it costs $0.0012.
  const { db, step, turnIn } = setUp(0.002);
  const turn = turnIn("s");
  expect(await step.run(turn)).toBeUndefined();
  const spent = turn.settle?.({ response: answer, provider: anthropic, cached: false });
  expect(spent?.costUsd).toBeCloseTo(0.0012, 10);
  // Written through, not left for a later flush.
  expect(db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM usage").get()?.n).toBe(1);
  expect(turn.settle?.({ response: answer, provider: anthropic, cached: false })).toBe(spent as NonNullable<typeof spent>);
  expect(db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM usage").get()?.n).toBe(1);

  const next = turnIn("s");
  await expect(Promise.resolve(step.run(next))).rejects.toThrow(RateLimitError);
  expect(next.ctx.facts.rejected).toBe("over_budget");
  expect(await step.run(turnIn("other"))).toBeUndefined();
});

test("a reservation holds its budget while the turn runs, and a turn that ends without an answer gives it back", async () => {
  // One turn's most (~$0.0017) fits, two at once do not.
  const { step, turnIn } = setUp(0.003);
  const first = turnIn("s");
  await step.run(first);
  await expect(Promise.resolve(step.run(turnIn("s")))).rejects.toThrow(RateLimitError);
  expect(first.settle?.(undefined)).toBeUndefined();
  expect(await step.run(turnIn("s"))).toBeUndefined();
});
