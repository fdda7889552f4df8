import type { Database } from "bun:sqlite";
import { usageReport, type UsageGrouping, type UsageReportRow } from "./usage-report.ts";

// What a session did, read back from the turns and usage tables: for the status line (one
// session, live), `lynkr sessions` and `lynkr wrap`'s closing summary.

/** Sums over usage rows. */
interface TokenSums {
  /** Answers (from an upstream or the prompt cache). */
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  cost_usd: number;
  saved_usd: number;
  /** Answers from lynkr's prompt cache. */
  cache_hits: number;
}

export interface SessionFigures extends TokenSums {
  session_id: string;
  /** Requests that reached routing, answered or failed. */
  turns: number;
  errors: number;
  fallbacks: number;
  /** Of the input tokens, the share the upstream read from its prompt cache (0..1). */
  cache_read_share: number;
  /** Who answered last. */
  provider: string | undefined;
  model: string | undefined;
  first_at: number | undefined;
  last_at: number | undefined;
}

export interface TurnRow {
  id: number;
  request_id: string;
  created_at: number;
  provider: string;
  model: string | null;
  requested_model: string;
  status: number;
  latency_ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_input_tokens: number | null;
  cost_usd: number | null;
  route: string | null;
  fallbacks: number;
  error: string | null;
}

export interface SessionListRow {
  session_id: string;
  created_at: number;
  updated_at: number;
  turns: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  errors: number;
  fallbacks: number;
}

export interface UsageSums extends TokenSums {
  first_at: number | null;
  last_at: number | null;
}

export interface TurnSums {
  turns: number;
  errors: number;
  fallbacks: number;
  first_at: number | null;
  last_at: number | null;
}

/** A window of time: only rows at or after `since` (ms), when given. */
export interface Window {
  since?: number;
}

const usageSums = `count(*) AS requests, coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cache_read_input_tokens), 0) AS cache_read_input_tokens, coalesce(sum(cache_creation_input_tokens), 0) AS cache_creation_input_tokens,
  coalesce(sum(cost_usd), 0) AS cost_usd, coalesce(sum(saved_usd), 0) AS saved_usd, coalesce(sum(cached), 0) AS cache_hits,
  min(created_at) AS first_at, max(created_at) AS last_at`;
const turnSums = `count(*) AS turns, coalesce(sum(status <> 200), 0) AS errors, coalesce(sum(fallbacks), 0) AS fallbacks,
  min(created_at) AS first_at, max(created_at) AS last_at`;

/**
 * What the app reads back of sessions and usage: SQLite's SessionReport here (synchronous),
 * PostgreSQL's in src/store/postgres/report.ts; callers await either.
 */
export interface SessionReader {
  session(sessionId: string): SessionFigures | Promise<SessionFigures>;
  window(window: Window): (SessionFigures & { providers: string[] }) | Promise<SessionFigures & { providers: string[] }>;
  list(window: Window & { limit: number }): SessionListRow[] | Promise<SessionListRow[]>;
  turns(sessionId: string): TurnRow[] | Promise<TurnRow[]>;
  recent(limit: number): (TurnRow & { session_id: string })[] | Promise<(TurnRow & { session_id: string })[]>;
  cacheReadShare(day: string): CacheReadShare | Promise<CacheReadShare>;
  exists(sessionId: string): boolean | Promise<boolean>;
  /** `lynkr usage`: usage rows since `since`, summed by one grouping. */
  usage(by: UsageGrouping, since: number): UsageReportRow[] | Promise<UsageReportRow[]>;
}

export interface CacheReadShare {
  read_tokens: number;
  input_tokens: number;
  share: number;
}

export function figures(sessionId: string, usage: UsageSums, turns: TurnSums, last: { provider: string; model: string | null } | null): SessionFigures {
  const input = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
  const firsts = [usage.first_at, turns.first_at].filter((v): v is number => v !== null);
  const lasts = [usage.last_at, turns.last_at].filter((v): v is number => v !== null);
  const { first_at: _first, last_at: _last, ...sums } = usage;
  return {
    session_id: sessionId,
    ...sums,
    turns: turns.turns,
    errors: turns.errors,
    fallbacks: turns.fallbacks,
    cache_read_share: input === 0 ? 0 : usage.cache_read_input_tokens / input,
    provider: last?.provider,
    model: last?.model ?? undefined,
    first_at: firsts.length ? Math.min(...firsts) : undefined,
    last_at: lasts.length ? Math.max(...lasts) : undefined,
  };
}

export class SessionReport implements SessionReader {
  constructor(private readonly db: Database) {}

  /** One session's figures; all zero for a session lynkr has not seen (yet). */
  session(sessionId: string): SessionFigures {
    const usage = this.db.query<UsageSums, [string]>(`SELECT ${usageSums} FROM usage WHERE session_id = ?`).get(sessionId);
    const turns = this.db.query<TurnSums, [string]>(`SELECT ${turnSums} FROM turns WHERE session_id = ?`).get(sessionId);
    const last =
      this.db.query<{ provider: string; model: string | null }, [string]>("SELECT provider, model FROM turns WHERE session_id = ? ORDER BY id DESC LIMIT 1").get(sessionId) ??
      this.db.query<{ provider: string; model: string | null }, [string]>("SELECT provider, model FROM usage WHERE session_id = ? ORDER BY id DESC LIMIT 1").get(sessionId);
    return figures(sessionId, usage as UsageSums, turns as TurnSums, last);
  }

  /** Everything answered in a window, all sessions together (`lynkr wrap`'s summary). */
  window(window: Window): SessionFigures & { providers: string[] } {
    const since = window.since ?? 0;
    const usage = this.db.query<UsageSums, [number]>(`SELECT ${usageSums} FROM usage WHERE created_at >= ?`).get(since);
    const turns = this.db.query<TurnSums, [number]>(`SELECT ${turnSums} FROM turns WHERE created_at >= ?`).get(since);
    const providers = this.db
      .query<{ provider: string }, [number, number]>(
        "SELECT provider FROM turns WHERE created_at >= ? UNION SELECT provider FROM usage WHERE created_at >= ? ORDER BY provider",
      )
      .all(since, since)
      .map((r) => r.provider);
    return { ...figures("", usage as UsageSums, turns as TurnSums, null), providers };
  }

  /** Sessions most recently active first. */
  list(window: Window & { limit: number }): SessionListRow[] {
    return this.db
      .query<SessionListRow, [number, number]>(
        `SELECT s.id AS session_id, s.created_at, s.updated_at, s.turn_count AS turns,
           coalesce(u.input_tokens, 0) AS input_tokens, coalesce(u.output_tokens, 0) AS output_tokens, coalesce(u.cost_usd, 0) AS cost_usd,
           coalesce(t.errors, 0) AS errors, coalesce(t.fallbacks, 0) AS fallbacks
         FROM sessions s
         LEFT JOIN (SELECT session_id, sum(input_tokens + cache_read_input_tokens + cache_creation_input_tokens) AS input_tokens,
             sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd FROM usage GROUP BY session_id) u ON u.session_id = s.id
         LEFT JOIN (SELECT session_id, sum(status <> 200) AS errors, sum(fallbacks) AS fallbacks FROM turns GROUP BY session_id) t ON t.session_id = s.id
         WHERE s.updated_at >= ?
         ORDER BY s.updated_at DESC LIMIT ?`,
      )
      .all(window.since ?? 0, window.limit);
  }

  /** A session's turns in order, each with its cost. */
  turns(sessionId: string): TurnRow[] {
    return this.db
      .query<TurnRow, [string]>(
        `SELECT t.id, t.request_id, t.created_at, t.provider, t.model, t.requested_model, t.status, t.latency_ms,
           t.input_tokens, t.output_tokens, t.cache_read_input_tokens, u.cost_usd, t.route, t.fallbacks, t.error
         FROM turns t LEFT JOIN usage u ON u.session_id = t.session_id AND u.request_id = t.request_id
         WHERE t.session_id = ? ORDER BY t.id`,
      )
      .all(sessionId);
  }

  /** The newest turns of all sessions, newest first (the dashboard's request list). */
  recent(limit: number): (TurnRow & { session_id: string })[] {
    return this.db
      .query<TurnRow & { session_id: string }, [number]>(
        `SELECT t.id, t.session_id, t.request_id, t.created_at, t.provider, t.model, t.requested_model, t.status, t.latency_ms,
           t.input_tokens, t.output_tokens, t.cache_read_input_tokens, u.cost_usd, t.route, t.fallbacks, t.error
         FROM turns t LEFT JOIN usage u ON u.session_id = t.session_id AND u.request_id = t.request_id
         ORDER BY t.id DESC LIMIT ?`,
      )
      .all(limit);
  }

  /** Of today's (UTC) input tokens, the share upstreams read from their prompt caches. */
  cacheReadShare(day: string): CacheReadShare {
    const row = this.db
      .query<{ read: number; input: number }, [string]>(
        "SELECT coalesce(sum(cache_read_input_tokens), 0) AS read, coalesce(sum(input_tokens + cache_read_input_tokens + cache_creation_input_tokens), 0) AS input FROM usage WHERE day = ? AND cached = 0",
      )
      .get(day);
    const read = row?.read ?? 0;
    const input = row?.input ?? 0;
    return { read_tokens: read, input_tokens: input, share: input === 0 ? 0 : read / input };
  }

  /** Whether lynkr has seen this session at all. */
  exists(sessionId: string): boolean {
    return (
      this.db.query("SELECT 1 FROM sessions WHERE id = ?").get(sessionId) !== null ||
      this.db.query("SELECT 1 FROM usage WHERE session_id = ? LIMIT 1").get(sessionId) !== null
    );
  }

  usage(by: UsageGrouping, since: number): UsageReportRow[] {
    return usageReport(this.db, by, since);
  }
}
