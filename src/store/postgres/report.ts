import type { SQL } from "bun";
import { groupColumn, usageGroupings, type UsageGrouping, type UsageReportRow } from "../usage-report.ts";
import {
  figures,
  type CacheReadShare,
  type SessionFigures,
  type SessionListRow,
  type SessionReader,
  type TurnRow,
  type TurnSums,
  type UsageSums,
  type Window,
} from "../session-report.ts";

// SessionReport's questions asked of PostgreSQL. Its sums of BIGINT are NUMERIC and its BIGINTs
// arrive as strings: every number is cast to float8 (exact below 2^53) so rows have SQLite's shapes.

const usageSums = `count(*)::float8 AS requests, coalesce(sum(input_tokens), 0)::float8 AS input_tokens, coalesce(sum(output_tokens), 0)::float8 AS output_tokens,
  coalesce(sum(cache_read_input_tokens), 0)::float8 AS cache_read_input_tokens, coalesce(sum(cache_creation_input_tokens), 0)::float8 AS cache_creation_input_tokens,
  coalesce(sum(cost_usd), 0)::float8 AS cost_usd, coalesce(sum(saved_usd), 0)::float8 AS saved_usd, count(*) FILTER (WHERE cached)::float8 AS cache_hits,
  min(created_at)::float8 AS first_at, max(created_at)::float8 AS last_at`;
const turnSums = `count(*)::float8 AS turns, count(*) FILTER (WHERE status <> 200)::float8 AS errors, coalesce(sum(fallbacks), 0)::float8 AS fallbacks,
  min(created_at)::float8 AS first_at, max(created_at)::float8 AS last_at`;
const turnColumns = `t.id::float8 AS id, t.request_id, t.created_at::float8 AS created_at, t.provider, t.model, t.requested_model, t.status, t.latency_ms,
  t.input_tokens, t.output_tokens, t.cache_read_input_tokens, u.cost_usd, t.route, t.fallbacks, t.error`;

type Last = { provider: string; model: string | null };

export class PgSessionReport implements SessionReader {
  constructor(private readonly sql: SQL) {}

  async session(sessionId: string): Promise<SessionFigures> {
    const [[usage], [turns], lastTurn, lastUsage] = await Promise.all([
      this.sql.unsafe(`SELECT ${usageSums} FROM usage WHERE session_id = $1`, [sessionId]) as Promise<UsageSums[]>,
      this.sql.unsafe(`SELECT ${turnSums} FROM turns WHERE session_id = $1`, [sessionId]) as Promise<TurnSums[]>,
      this.sql`SELECT provider, model FROM turns WHERE session_id = ${sessionId} ORDER BY id DESC LIMIT 1` as Promise<Last[]>,
      this.sql`SELECT provider, model FROM usage WHERE session_id = ${sessionId} ORDER BY id DESC LIMIT 1` as Promise<Last[]>,
    ]);
    return figures(sessionId, usage as UsageSums, turns as TurnSums, lastTurn[0] ?? lastUsage[0] ?? null);
  }

  async window(window: Window): Promise<SessionFigures & { providers: string[] }> {
    const since = window.since ?? 0;
    const [[usage], [turns], providers] = await Promise.all([
      this.sql.unsafe(`SELECT ${usageSums} FROM usage WHERE created_at >= $1`, [since]) as Promise<UsageSums[]>,
      this.sql.unsafe(`SELECT ${turnSums} FROM turns WHERE created_at >= $1`, [since]) as Promise<TurnSums[]>,
      this.sql`SELECT provider FROM turns WHERE created_at >= ${since} UNION SELECT provider FROM usage WHERE created_at >= ${since} ORDER BY provider` as Promise<{ provider: string }[]>,
    ]);
    return { ...figures("", usage as UsageSums, turns as TurnSums, null), providers: providers.map((r) => r.provider) };
  }

  list(window: Window & { limit: number }): Promise<SessionListRow[]> {
    return this.sql`SELECT s.id AS session_id, s.created_at::float8 AS created_at, s.updated_at::float8 AS updated_at, s.turn_count AS turns,
        coalesce(u.input_tokens, 0)::float8 AS input_tokens, coalesce(u.output_tokens, 0)::float8 AS output_tokens, coalesce(u.cost_usd, 0)::float8 AS cost_usd,
        coalesce(t.errors, 0)::float8 AS errors, coalesce(t.fallbacks, 0)::float8 AS fallbacks
      FROM sessions s
      LEFT JOIN (SELECT session_id, sum(input_tokens + cache_read_input_tokens + cache_creation_input_tokens) AS input_tokens,
          sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd FROM usage GROUP BY session_id) u ON u.session_id = s.id
      LEFT JOIN (SELECT session_id, count(*) FILTER (WHERE status <> 200) AS errors, sum(fallbacks) AS fallbacks FROM turns GROUP BY session_id) t ON t.session_id = s.id
      WHERE s.updated_at >= ${window.since ?? 0}
      ORDER BY s.updated_at DESC LIMIT ${window.limit}`;
  }

  turns(sessionId: string): Promise<TurnRow[]> {
    return this.sql.unsafe(
      `SELECT ${turnColumns} FROM turns t LEFT JOIN usage u ON u.session_id = t.session_id AND u.request_id = t.request_id
       WHERE t.session_id = $1 ORDER BY t.id`,
      [sessionId],
    );
  }

  recent(limit: number): Promise<(TurnRow & { session_id: string })[]> {
    return this.sql.unsafe(
      `SELECT ${turnColumns}, t.session_id FROM turns t LEFT JOIN usage u ON u.session_id = t.session_id AND u.request_id = t.request_id
       ORDER BY t.id DESC LIMIT $1`,
      [limit],
    );
  }

  async cacheReadShare(day: string): Promise<CacheReadShare> {
    const [row]: { read: number; input: number }[] = await this.sql`SELECT coalesce(sum(cache_read_input_tokens), 0)::float8 AS read,
        coalesce(sum(input_tokens + cache_read_input_tokens + cache_creation_input_tokens), 0)::float8 AS input
      FROM usage WHERE day = ${day} AND NOT cached`;
    const read = row?.read ?? 0;
    const input = row?.input ?? 0;
    return { read_tokens: read, input_tokens: input, share: input === 0 ? 0 : read / input };
  }

  async exists(sessionId: string): Promise<boolean> {
    const rows: unknown[] = await this.sql`SELECT 1 FROM sessions WHERE id = ${sessionId} UNION ALL SELECT 1 FROM usage WHERE session_id = ${sessionId} LIMIT 1`;
    return rows.length > 0;
  }

  usage(by: UsageGrouping, since: number): Promise<UsageReportRow[]> {
    // The grouping is one of a fixed list, never the caller's text.
    const column = groupColumn[usageGroupings.includes(by) ? by : "day"];
    return this.sql.unsafe(
      `SELECT ${column} AS "group", count(*)::float8 AS requests, sum(input_tokens)::float8 AS input_tokens, sum(output_tokens)::float8 AS output_tokens,
         sum(cache_read_input_tokens)::float8 AS cache_read_input_tokens, sum(cache_creation_input_tokens)::float8 AS cache_creation_input_tokens,
         count(*) FILTER (WHERE cached)::float8 AS cache_hits, coalesce(sum(cost_usd), 0)::float8 AS cost_usd, coalesce(sum(saved_usd), 0)::float8 AS saved_usd
       FROM usage WHERE created_at >= $1 GROUP BY 1 ORDER BY ${by === "day" ? "1" : "cost_usd DESC, requests DESC"}`,
      [since],
    );
  }
}
