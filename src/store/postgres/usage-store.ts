import type { SQL, TransactionSQL } from "bun";
import { KnownTotals, noTotals, spendOf, type Spend, totalsKey, type TotalScope, type Totals, type UsageLedger, type UsageRow, usageColumns } from "../usage.ts";
import { OverloadedError } from "../../anthropic/errors.ts";
import { isTransient, PgLink, PgWriter, type WriterSettings } from "./writer.ts";

// Usage rows and running totals in PostgreSQL. Budgets read the totals from memory as with
// SQLite (read once, then added to as this replica records); the rows and totals are written
// through a retrying writer, and a request's answer ends only once its row is committed, or after
// `ackWithinMs` while PostgreSQL is away (the row stays queued and is written when it is back).

interface Pending {
  writeId: string;
  row: UsageRow;
  now: number;
  spend: Spend;
}

export class PgUsageStore implements UsageLedger {
  private readonly known = new KnownTotals();
  /** Spend recorded but not committed yet, by totals key: a read from PostgreSQL does not see it. */
  private readonly uncommitted = new Map<string, Totals>();
  private readonly writer: PgWriter<Pending>;

  constructor(
    private readonly sql: SQL,
    link?: PgLink,
    private readonly ackWithinMs = 5_000,
    settings?: WriterSettings,
  ) {
    this.writer = new PgWriter(sql, "usage rows", (tx, items) => this.commit(tx, items), link, settings);
  }

  record(row: UsageRow, now = Date.now()): Promise<boolean> {
    const spend = spendOf(row, now);
    this.known.add(spend);
    this.count(spend, 1);
    const item = { writeId: crypto.randomUUID(), row, now, spend };
    return this.writer.acknowledged(item, this.ackWithinMs, row.requestId, () => this.count(spend, -1));
  }

  totals(scope: TotalScope, subject: string, period: string): Readonly<Totals> | Promise<Readonly<Totals>> {
    const known = this.known.get(scope, subject, period);
    if (known) return known;
    return this.read(scope, subject, period).then(
      (read) =>
        // Another request may have read (and added to) them meanwhile: that one stays.
        this.known.get(scope, subject, period) ?? this.known.remember(scope, subject, period, read),
    );
  }

  /** Waits (at most `ms`) for every queued row. */
  flush(ms: number): Promise<boolean> {
    return this.writer.flush(ms);
  }

  private async read(scope: TotalScope, subject: string, period: string): Promise<Totals> {
    let rows: Totals[];
    try {
      rows = await this.readRow(scope, subject, period);
    } catch (error) {
      if (!isTransient(error)) throw error;
      // A budget that cannot be read cannot be checked: the request waits for a retry instead of
      // passing unchecked (Claude Code retries a 529 by itself).
      throw new OverloadedError("budget totals cannot be read while the database is unreachable; retry shortly", {
        headers: { "retry-after": "2" },
        cause: error,
      });
    }
    // What this replica recorded and has not committed yet counts too (at worst twice, for the
    // moment between its commit and this read: a budget errs on the safe side).
    const totals = { ...(rows[0] ?? noTotals) };
    const waiting = this.uncommitted.get(totalsKey(scope, subject, period));
    if (waiting) {
      totals.requests += waiting.requests;
      totals.input_tokens += waiting.input_tokens;
      totals.output_tokens += waiting.output_tokens;
      totals.cost_usd += waiting.cost_usd;
    }
    return totals;
  }

  private readRow(scope: TotalScope, subject: string, period: string): Promise<Totals[]> {
    return this.sql`SELECT requests::float8 AS requests, input_tokens::float8 AS input_tokens,
      output_tokens::float8 AS output_tokens, cost_usd FROM usage_totals WHERE scope = ${scope} AND subject = ${subject} AND period = ${period}`;
  }

  private count(spend: Spend, sign: 1 | -1): void {
    for (const [scope, subject, period] of spend.lines) {
      const key = totalsKey(scope, subject, period);
      const t = this.uncommitted.get(key) ?? { ...noTotals };
      t.requests += sign;
      t.input_tokens += sign * spend.input;
      t.output_tokens += sign * spend.output;
      t.cost_usd += sign * spend.cost;
      if (t.requests === 0) this.uncommitted.delete(key);
      else this.uncommitted.set(key, t);
    }
  }

  /** A batch in three statements, however many rows: the rows, then the totals they add to. */
  private async commit(tx: TransactionSQL, items: Pending[]): Promise<void> {
    const rows = items.map(({ writeId, row, now, spend }) => ({ write_id: writeId, ...usageColumns(row, spend, now) }));
    const inserted: { write_id: string }[] = await tx`INSERT INTO usage ${tx(rows)} ON CONFLICT (write_id) DO NOTHING RETURNING write_id`;
    // Rows already there were committed by an earlier try, totals included.
    const fresh = new Set(inserted.map((r) => r.write_id));
    const added = new Map<string, { scope: string; subject: string; period: string; requests: number; input_tokens: number; output_tokens: number; cost_usd: number }>();
    for (const { writeId, spend } of items) {
      if (!fresh.has(writeId)) continue;
      for (const [scope, subject, period] of spend.lines) {
        const key = totalsKey(scope, subject, period);
        const sum = added.get(key) ?? { scope, subject, period, requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
        sum.requests += 1;
        sum.input_tokens += spend.input;
        sum.output_tokens += spend.output;
        sum.cost_usd += spend.cost;
        added.set(key, sum);
      }
    }
    if (added.size === 0) return;
    // In one order on every replica, so two batches never wait on each other's totals in a cycle.
    const totals = [...added.keys()].sort().flatMap((key) => added.get(key) ?? []);
    await tx`INSERT INTO usage_totals ${tx(totals)}
      ON CONFLICT (scope, subject, period) DO UPDATE SET requests = usage_totals.requests + excluded.requests,
        input_tokens = usage_totals.input_tokens + excluded.input_tokens, output_tokens = usage_totals.output_tokens + excluded.output_tokens,
        cost_usd = usage_totals.cost_usd + excluded.cost_usd`;
  }
}
