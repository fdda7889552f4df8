import type { Budgets } from "../../usage/budgets.ts";
import type { Step } from "../turn.ts";

/** Refuses a turn whose session, client or gateway has spent its budget, before any upstream call. */
export function budgetStep(budgets: Budgets): Step {
  return {
    name: "budget",
    run(turn) {
      const { ctx } = turn;
      try {
        budgets.check({ client: ctx.client, sessionId: turn.sessionId, newSession: turn.namedSession === undefined });
      } catch (error) {
        ctx.facts.rejected = "over_budget";
        throw error;
      }
      return undefined;
    },
  };
}
