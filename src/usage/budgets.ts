import { RateLimitError } from "../anthropic/errors.ts";
import type { Config } from "../config/schema.ts";
import { LocalLedger } from "../shared-state/local.ts";
import type { BudgetLedger, BudgetLine, HoldResult } from "../shared-state/ports.ts";
import { totalsKey, utcDay, type TotalScope, type Totals, type UsageLedger } from "../store/usage.ts";

// Money budgets. Each request reserves what it can cost at most (its estimated input and its
// max_tokens at the model's price) before the upstream is called, and is refused when that does
// not fit beside what is spent and what requests in flight have reserved; when it ends, its real
// cost is recorded and the reservation released. So concurrent requests cannot all pass a nearly
// spent budget. Spent totals live in SQLite (a restart keeps them); reservations live in memory
// (a restart ends the requests that held them). With replicas, a shared ledger keeps the holds
// and the spend where every replica sees them (src/shared-state/).

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

/** A request's hold on its budgets; `release(costUsd)` once it ended (after its usage was recorded). */
export interface Reservation {
  release(costUsd: number): void;
}

const noReservation: Reservation = { release() {} };

function nextUtcMidnight(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
}

const money = (usd: number) => `$${usd.toFixed(usd < 1 ? 4 : 2)}`;

export class Budgets {
  private readonly budgets: Budget[] = [];
  private readonly allowUnpriced: boolean;

  constructor(
    config: Pick<Config, "BUDGET_SESSION_USD" | "BUDGET_KEY_DAILY_USD" | "BUDGET_DAILY_USD" | "BUDGET_ALLOW_UNPRICED">,
    private readonly usage: UsageLedger,
    /** Where holds (and, shared, spend) are kept: in process, or across replicas (src/shared-state/). */
    private readonly ledger: BudgetLedger = new LocalLedger(),
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
  reserve(who: { client: string; sessionId: string }, estimate: CostEstimate, now = Date.now()): Reservation | Promise<Reservation> {
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
    const subjects = this.budgets.map((budget) => ({
      subject: budget.scope === "session" ? who.sessionId : budget.scope === "client" ? who.client : "",
      period: budget.daily ? day : "",
    }));
    // In memory after the first read of each; PostgreSQL's first read is the only wait.
    const spent = this.budgets.map((budget, i) => this.usage.totals(budget.scope, subjects[i]?.subject ?? "", subjects[i]?.period ?? ""));
    const hold = (totals: readonly Readonly<Totals>[]): Reservation | Promise<Reservation> => {
      const lines: BudgetLine[] = this.budgets.map((budget, i) => ({
        key: totalsKey(budget.scope, subjects[i]?.subject ?? "", subjects[i]?.period ?? ""),
        limit: budget.limit,
        localSpent: totals[i]?.cost_usd ?? 0,
        keepSeconds: budget.daily ? 2 * 86_400 : 30 * 86_400,
      }));
      const answer = (result: HoldResult): Reservation => {
        if (result.held) return { release: (costUsd) => result.hold.settle(costUsd) };
        const budget = this.budgets[result.line] as Budget;
        throw this.refusal(budget, subjects[result.line]?.subject ?? "", result.spent, result.pending, cost, now);
      };
      const result = this.ledger.hold(lines, cost);
      return result instanceof Promise ? result.then(answer) : answer(result);
    };
    if (spent.some((t) => t instanceof Promise)) return Promise.all(spent).then(hold);
    return hold(spent as Readonly<Totals>[]);
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
