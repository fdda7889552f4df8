import { RateLimitError } from "../anthropic/errors.ts";
import type { Config } from "../config/schema.ts";
import { utcDay, type TotalScope, type UsageStore } from "./store.ts";

// Money budgets. Each request reserves what it can cost at most (its estimated input and its
// max_tokens at the model's price) before the upstream is called, and is refused when that does
// not fit beside what is spent and what requests in flight have reserved; when it ends, its real
// cost is recorded and the reservation released. So concurrent requests cannot all pass a nearly
// spent budget. Spent totals live in SQLite (a restart keeps them); reservations live in memory
// (a restart ends the requests that held them).

interface Budget {
  variable: string;
  limit: number;
  scope: TotalScope;
  daily: boolean;
  what: string;
}

/** What a request may cost at most, or undefined when its model has no price. */
export interface CostEstimate {
  model: string;
  maxUsd: number | undefined;
}

/** A request's hold on its budgets; `release()` once it ended (after its usage was recorded). */
export interface Reservation {
  release(): void;
}

const noReservation: Reservation = { release() {} };

function nextUtcMidnight(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
}

const money = (usd: number) => `$${usd.toFixed(usd < 1 ? 4 : 2)}`;

export class Budgets {
  private readonly budgets: Budget[] = [];
  /** Dollars reserved by requests in flight, per budget subject (scope, subject, period). */
  private readonly reserved = new Map<string, number>();
  private readonly allowUnpriced: boolean;

  constructor(
    config: Pick<Config, "BUDGET_SESSION_USD" | "BUDGET_KEY_DAILY_USD" | "BUDGET_DAILY_USD" | "BUDGET_ALLOW_UNPRICED">,
    private readonly usage: UsageStore,
  ) {
    this.allowUnpriced = config.BUDGET_ALLOW_UNPRICED;
    if (config.BUDGET_SESSION_USD !== undefined) {
      this.budgets.push({ variable: "BUDGET_SESSION_USD", limit: config.BUDGET_SESSION_USD, scope: "session", daily: false, what: "this session's budget" });
    }
    if (config.BUDGET_KEY_DAILY_USD !== undefined) {
      this.budgets.push({ variable: "BUDGET_KEY_DAILY_USD", limit: config.BUDGET_KEY_DAILY_USD, scope: "client", daily: true, what: "the daily budget of client" });
    }
    if (config.BUDGET_DAILY_USD !== undefined) {
      this.budgets.push({ variable: "BUDGET_DAILY_USD", limit: config.BUDGET_DAILY_USD, scope: "day", daily: true, what: "the gateway's daily budget" });
    }
  }

  get active(): boolean {
    return this.budgets.length > 0;
  }

  /**
   * Reserves the request's most expensive outcome against every budget, or throws a 429 naming
   * the budget it does not fit and when that resets (no retry can help before then). A request
   * without a session of its own is its own session: the session budget still bounds it.
   */
  reserve(who: { client: string; sessionId: string }, estimate: CostEstimate, now = Date.now()): Reservation {
    if (this.budgets.length === 0) return noReservation;
    const first = this.budgets[0] as Budget;
    if (estimate.maxUsd === undefined) {
      if (this.allowUnpriced) return noReservation;
      throw new RateLimitError(
        `budget cannot be enforced: model ${estimate.model.slice(0, 128)} has no price (${first.variable} is set); give it one under "prices" in LYNKR_CONFIG, or set BUDGET_ALLOW_UNPRICED=true to let unpriced models through`,
        { headers: { "x-should-retry": "false" } },
      );
    }
    const cost = estimate.maxUsd;
    const day = utcDay(now);
    const held: string[] = [];
    for (const budget of this.budgets) {
      const subject = budget.scope === "session" ? who.sessionId : budget.scope === "client" ? who.client : "";
      const period = budget.daily ? day : "";
      const key = `${budget.scope}\u0000${subject}\u0000${period}`;
      const spent = this.usage.totals(budget.scope, subject, period).cost_usd;
      const pending = this.reserved.get(key) ?? 0;
      if (spent + pending + cost > budget.limit) throw this.refusal(budget, subject, spent, pending, cost, now);
      held.push(key);
    }
    for (const key of held) this.reserved.set(key, (this.reserved.get(key) ?? 0) + cost);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const key of held) {
          const left = (this.reserved.get(key) ?? 0) - cost;
          // Sums of floats never come back to exactly zero; nothing this small is a reservation.
          if (left > 1e-12) this.reserved.set(key, left);
          else this.reserved.delete(key);
        }
      },
    };
  }

  private refusal(budget: Budget, subject: string, spent: number, pending: number, cost: number, now: number): RateLimitError {
    const whose = budget.scope === "client" ? `${budget.what} ${subject}` : budget.what;
    const headers: Record<string, string> = { "x-should-retry": "false" };
    let resets = "it does not reset: start a new session";
    if (budget.daily) {
      const reset = nextUtcMidnight(now);
      resets = `it resets at ${reset.toISOString()}`;
      headers["retry-after"] = String(Math.ceil((reset.getTime() - now) / 1000));
    }
    const limit = `${budget.variable}=${money(budget.limit)}`;
    const message =
      spent >= budget.limit
        ? `budget exhausted: ${whose} (${limit}) is spent (${money(spent)}); ${resets}`
        : `budget exceeded: this request may cost up to ${money(cost)} (its input and max_tokens at the model's price), more than what is left of ${whose} (${limit}: ${money(spent)} spent, ${money(pending)} held by requests in flight); lower max_tokens, or wait: ${resets}`;
    return new RateLimitError(message, { headers });
  }
}
