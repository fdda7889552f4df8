import { logger } from "../../observability/logger.ts";
import type { Router } from "../../routing/router.ts";
import type { Budgets, Reservation } from "../../usage/budgets.ts";
import type { Price } from "../../config/sections/prices.ts";
import { costOf, type Prices } from "../../usage/prices.ts";
import type { RateLimiter } from "../../usage/rate-limiter.ts";
import type { UsageLedger } from "../../store/usage.ts";
import { turnUsage } from "../../usage/tokens.ts";
import type { Spent, Step } from "../turn.ts";

/** Cache writes cost more than plain input at some providers; an estimate takes the dearer. */
function priciestInput(price: Price): Price {
  return { ...price, input: Math.max(price.input, price.cacheWrite ?? price.input) };
}

export interface BudgetParts {
  budgets: Budgets;
  limiter: RateLimiter;
  usage: UsageLedger;
  prices: Prices;
  router: Pick<Router, "primary">;
}

/**
 * Admission: reserves the turn's most it can use (estimated input + max_tokens) against the
 * client's token bucket and, at the price of the provider and model it is routed to, against every
 * budget, and refuses it when that does not fit. Settlement (`turn.settle`, called by the tee
 * once, before the answer's last byte or when the turn ends without one) records the answer's
 * usage and cost, written through (what budgets count survives a crash right after), and gives the
 * reservation back.
 */
export function budgetStep(parts: BudgetParts): Step {
  const { budgets, limiter, usage, prices } = parts;
  return {
    name: "budget",
    async run(turn) {
      const { ctx, request } = turn;
      const target = turn.route?.chain[0];
      const provider = target?.provider ?? parts.router.primary;
      const model = target?.model ?? provider.model ?? request.model;
      // A character of JSON is rarely less than a quarter of a token: a generous estimate, and no
      // tokenizer pass on the request path.
      const inputTokens = Math.ceil(turn.bodyBytes / 4);
      const reservedTokens = await limiter.reserveTokens(ctx.client, inputTokens + request.max_tokens);
      let reservation: Reservation | undefined;
      if (budgets.active) {
        try {
          const price = prices.lookup(provider.kind, model).price;
          const most = { input_tokens: inputTokens, output_tokens: request.max_tokens, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
          reservation = await budgets.reserve({ client: ctx.client, sessionId: turn.sessionId }, { model, maxUsd: price && costOf(priciestInput(price), most) });
        } catch (error) {
          limiter.settle(ctx.client, reservedTokens, 0);
          ctx.facts.rejected = "over_budget";
          throw error;
        }
      }
      let settled = false;
      turn.settle = (answer) => {
        if (settled) return turn.spent;
        settled = true;
        let spent: Spent | undefined;
        if (answer) {
          const { response, cached } = answer;
          try {
            const used = turnUsage(turn.request, response);
            const cost = costOf(prices.lookup(answer.provider.kind, response.model).price, used);
            spent = { usage: used, costUsd: cached ? 0 : cost, savedUsd: cached ? cost : undefined };
            const written = usage.record({
              requestId: ctx.requestId,
              sessionId: turn.sessionId,
              client: ctx.client,
              provider: answer.provider.name,
              model: response.model,
              usage: used,
              costUsd: spent.costUsd,
              cached,
              savedUsd: spent.savedUsd,
            });
            // PostgreSQL commits later: the answer's last byte waits for it (the tee awaits this).
            if (written instanceof Promise) turn.acknowledged = written.catch(() => undefined);
          } catch (error) {
            logger.error("could not record usage", { request_id: ctx.requestId, error: String(error) });
          }
        }
        const u = spent?.usage;
        const usedTokens = u && !answer?.cached ? u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens + u.output_tokens : 0;
        limiter.settle(ctx.client, reservedTokens, usedTokens);
        reservation?.release(spent?.costUsd ?? 0);
        turn.spent = spent;
        return spent;
      };
      return undefined;
    },
  };
}
