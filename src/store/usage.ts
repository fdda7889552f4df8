import type { Database } from "bun:sqlite";
import type { TurnUsage } from "./tokens.ts";

export type TotalScope = "session" | "client" | "day";

export interface UsageRow {
  requestId: string;
  sessionId: string;
  client: string;
  provider: string;
  model: string | undefined;
  usage: TurnUsage;
  /** Dollars spent; undefined when the model has no price. */
  costUsd: number | undefined;
  /** Answered from the prompt cache: nothing spent upstream. */
  cached: boolean;
  savedUsd: number | undefined;
}

export interface Totals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

function totalsKey(scope: TotalScope, subject: string, period: string): string {
  return `${scope}\u0000${subject}\u0000${period}`;
}

const dayMs = 86_400_000;
let lastDay = { from: 0, name: "1970-01-01" };

/** The UTC day of a timestamp, as budgets and daily totals count it (formatted once a day). */
export function utcDay(ms: number): string {
  if (ms < lastDay.from || ms >= lastDay.from + dayMs) {
    const from = ms - (((ms % dayMs) + dayMs) % dayMs);
    lastDay = { from, name: new Date(from).toISOString().slice(0, 10) };
  }
  return lastDay.name;
}

/** Usage rows and their running totals per session, per client per day and per day. */
export class UsageStore {
  private readonly insert;
  private readonly bump;
  private readonly read;
  /**
   * Totals read once from SQLite and then kept up to date here, so budget checks before every
   * request cost a map lookup, not three queries. lynkr is the database's only writer; forgetting
   * them all when there are too many only costs reading them again.
   */
  private readonly known = new Map<string, Totals>();

  constructor(private readonly db: Database) {
    this.insert = db.query(
      `INSERT INTO usage (request_id, created_at, day, session_id, client, provider, model, input_tokens, output_tokens,
         cache_read_input_tokens, cache_creation_input_tokens, estimated, cost_usd, cached, saved_usd)
       VALUES ($requestId, $now, $day, $session, $client, $provider, $model, $input, $output, $cacheRead, $cacheCreation,
         $estimated, $cost, $cached, $saved)`,
    );
    this.bump = db.query(
      `INSERT INTO usage_totals (scope, subject, period, requests, input_tokens, output_tokens, cost_usd)
       VALUES ($scope, $subject, $period, 1, $input, $output, $cost)
       ON CONFLICT(scope, subject, period) DO UPDATE SET requests = requests + 1,
         input_tokens = input_tokens + $input, output_tokens = output_tokens + $output, cost_usd = cost_usd + $cost`,
    );
    this.read = db.query<Totals, { scope: string; subject: string; period: string }>(
      "SELECT requests, input_tokens, output_tokens, cost_usd FROM usage_totals WHERE scope = $scope AND subject = $subject AND period = $period",
    );
  }

  record(row: UsageRow, now = Date.now()): void {
    const day = utcDay(now);
    const u = row.usage;
    // Tokens answered from the cache were not spent, so totals (and budgets) leave them out.
    const spentIn = row.cached ? 0 : u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
    const spentOut = row.cached ? 0 : u.output_tokens;
    const cost = row.cached ? 0 : (row.costUsd ?? 0);
    const totals: [TotalScope, string, string][] = [
      ["session", row.sessionId, ""],
      ["client", row.client, day],
      ["day", "", day],
    ];
    this.db.transaction(() => {
      this.insert.run({
        requestId: row.requestId,
        now,
        day,
        session: row.sessionId,
        client: row.client,
        provider: row.provider,
        model: row.model ?? null,
        input: u.input_tokens,
        output: u.output_tokens,
        cacheRead: u.cache_read_input_tokens,
        cacheCreation: u.cache_creation_input_tokens,
        estimated: u.estimated ? 1 : 0,
        cost: row.cached ? 0 : (row.costUsd ?? null),
        cached: row.cached ? 1 : 0,
        saved: row.savedUsd ?? null,
      });
      for (const [scope, subject, period] of totals) {
        this.bump.run({ scope, subject, period, input: spentIn, output: spentOut, cost });
      }
    })();
    for (const [scope, subject, period] of totals) {
      const t = this.known.get(totalsKey(scope, subject, period));
      if (!t) continue; // read from SQLite, already updated, when first asked for
      t.requests += 1;
      t.input_tokens += spentIn;
      t.output_tokens += spentOut;
      t.cost_usd += cost;
    }
  }

  totals(scope: TotalScope, subject: string, period: string): Readonly<Totals> {
    const key = totalsKey(scope, subject, period);
    let t = this.known.get(key);
    if (!t) {
      t = { ...(this.read.get({ scope, subject, period }) ?? { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 }) };
      if (this.known.size >= 10_000) this.known.clear();
      this.known.set(key, t);
    }
    return t;
  }
}
