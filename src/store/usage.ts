import type { Database } from "bun:sqlite";

/** An answer's token counts (usage/tokens.ts's TurnUsage). */
export interface StoredTokens {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** True when the upstream reported no usage and the counts are a local estimate. */
  estimated: boolean;
}

export type TotalScope = "session" | "client" | "day";

export interface UsageRow {
  requestId: string;
  sessionId: string;
  client: string;
  provider: string;
  model: string | undefined;
  usage: StoredTokens;
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

/**
 * What the app needs of usage storage: SQLite's UsageStore here, PostgreSQL's in
 * src/store/postgres/usage-store.ts. Budgets read totals before every request: both keep them in
 * memory, written through.
 */
export interface UsageLedger {
  /**
   * Records an answer's usage and adds it to the totals at once. A Promise when the write is
   * committed later (PostgreSQL): it settles once the row is committed, and the answer's last byte
   * waits for it.
   */
  record(row: UsageRow, now?: number): void | Promise<unknown>;
  /** Totals of one scope; a Promise the first time PostgreSQL is asked. */
  totals(scope: TotalScope, subject: string, period: string): Readonly<Totals> | Promise<Readonly<Totals>>;
}

export function totalsKey(scope: TotalScope, subject: string, period: string): string {
  return `${scope}\u0000${subject}\u0000${period}`;
}

export const noTotals: Readonly<Totals> = Object.freeze({ requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 });

/** What one usage row adds to its session's, its client's day and the day's totals. */
export interface Spend {
  day: string;
  lines: [TotalScope, string, string][];
  input: number;
  output: number;
  cost: number;
}

export function spendOf(row: UsageRow, now: number): Spend {
  const day = utcDay(now);
  const u = row.usage;
  // Tokens answered from the cache were not spent, so totals (and budgets) leave them out.
  return {
    day,
    lines: [
      ["session", row.sessionId, ""],
      ["client", row.client, day],
      ["day", "", day],
    ],
    input: row.cached ? 0 : u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
    output: row.cached ? 0 : u.output_tokens,
    cost: row.cached ? 0 : (row.costUsd ?? 0),
  };
}

/**
 * Totals read once from the database and then kept up to date here, so budget checks before every
 * request cost a map lookup, not three queries. Forgetting them all when there are too many only
 * costs reading them again.
 */
export class KnownTotals {
  private readonly known = new Map<string, Totals>();

  get(scope: TotalScope, subject: string, period: string): Totals | undefined {
    return this.known.get(totalsKey(scope, subject, period));
  }

  remember(scope: TotalScope, subject: string, period: string, totals: Totals): Totals {
    if (this.known.size >= 10_000) this.known.clear();
    this.known.set(totalsKey(scope, subject, period), totals);
    return totals;
  }

  /** Adds a row to the totals already read; the others are read, updated, when first asked for. */
  add(spend: Spend): void {
    for (const [scope, subject, period] of spend.lines) {
      const t = this.get(scope, subject, period);
      if (!t) continue;
      t.requests += 1;
      t.input_tokens += spend.input;
      t.output_tokens += spend.output;
      t.cost_usd += spend.cost;
    }
  }
}

/** A usage row as the `usage` table holds it, the same columns in SQLite and PostgreSQL (SQLite binds booleans as 1/0). */
export function usageColumns(row: UsageRow, spend: Spend, now: number) {
  const u = row.usage;
  return {
    request_id: row.requestId,
    created_at: now,
    day: spend.day,
    session_id: row.sessionId,
    client: row.client,
    provider: row.provider,
    model: row.model ?? null,
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_read_input_tokens: u.cache_read_input_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens,
    estimated: u.estimated,
    cost_usd: row.cached ? 0 : (row.costUsd ?? null),
    cached: row.cached,
    saved_usd: row.savedUsd ?? null,
  };
}

// Every column of usageColumns, no other (the compiler checks both ways): SQLite binds the row by name.
const usageColumnNames = Object.keys({
  request_id: true, created_at: true, day: true, session_id: true, client: true, provider: true, model: true,
  input_tokens: true, output_tokens: true, cache_read_input_tokens: true, cache_creation_input_tokens: true,
  estimated: true, cost_usd: true, cached: true, saved_usd: true,
} satisfies Record<keyof ReturnType<typeof usageColumns>, true>);

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

/** Usage rows and their running totals per session, per client per day and per day, in SQLite. */
export class UsageStore implements UsageLedger {
  private readonly insert;
  private readonly bump;
  private readonly read;
  /** lynkr is the SQLite database's only writer: what it read stays true as it adds its own rows. */
  private readonly known = new KnownTotals();

  constructor(private readonly db: Database) {
    this.insert = db.query(
      `INSERT INTO usage (${usageColumnNames.join(", ")}) VALUES (${usageColumnNames.map((c) => `$${c}`).join(", ")})`,
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
    const spend = spendOf(row, now);
    this.db.transaction(() => {
      this.insert.run(usageColumns(row, spend, now));
      for (const [scope, subject, period] of spend.lines) {
        this.bump.run({ scope, subject, period, input: spend.input, output: spend.output, cost: spend.cost });
      }
    })();
    this.known.add(spend);
  }

  totals(scope: TotalScope, subject: string, period: string): Readonly<Totals> {
    return (
      this.known.get(scope, subject, period) ??
      this.known.remember(scope, subject, period, { ...(this.read.get({ scope, subject, period }) ?? noTotals) })
    );
  }
}
