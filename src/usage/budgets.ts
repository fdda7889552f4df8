import { RateLimitError } from "../anthropic/errors.ts";
import type { Config } from "../config/schema.ts";
import { utcDay, type TotalScope, type UsageStore } from "./store.ts";

// Money budgets, checked before the upstream is called. A request that starts under budget may
// finish over it; the next one is refused. Counts live in SQLite, so a restart keeps them.

interface Budget {
  variable: string;
  limit: number;
  scope: TotalScope;
  daily: boolean;
  what: string;
}

function nextUtcMidnight(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
}

const money = (usd: number) => `$${usd.toFixed(usd < 1 ? 4 : 2)}`;

export class Budgets {
  private readonly budgets: Budget[] = [];

  constructor(
    config: Pick<Config, "BUDGET_SESSION_USD" | "BUDGET_KEY_DAILY_USD" | "BUDGET_DAILY_USD">,
    private readonly usage: UsageStore,
  ) {
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

  /** Throws a 429 naming the exhausted budget and when it resets; no retry can help before then. */
  check(who: { client: string; sessionId: string; newSession?: boolean }, now = Date.now()): void {
    let day: string | undefined;
    for (const budget of this.budgets) {
      // A session made up for this request has spent nothing: no need to look its total up.
      if (budget.scope === "session" && who.newSession) continue;
      const subject = budget.scope === "session" ? who.sessionId : budget.scope === "client" ? who.client : "";
      const spent = this.usage.totals(budget.scope, subject, budget.daily ? (day ??= utcDay(now)) : "").cost_usd;
      if (spent < budget.limit) continue;
      const whose = budget.scope === "client" ? `${budget.what} ${subject}` : budget.what;
      const headers: Record<string, string> = { "x-should-retry": "false" };
      let resets = "it does not reset: start a new session";
      if (budget.daily) {
        const reset = nextUtcMidnight(now);
        resets = `it resets at ${reset.toISOString()}`;
        headers["retry-after"] = String(Math.ceil((reset.getTime() - now) / 1000));
      }
      throw new RateLimitError(
        `budget exhausted: ${whose} (${budget.variable}=${money(budget.limit)}) is spent (${money(spent)}); ${resets}`,
        { headers },
      );
    }
  }
}
