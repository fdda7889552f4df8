import type { Database } from "bun:sqlite";

// `lynkr usage`: the usage table summed over a window, grouped one way.

export const usageGroupings = ["day", "model", "provider", "key", "session"] as const;
export type UsageGrouping = (typeof usageGroupings)[number];

export const groupColumn: Record<UsageGrouping, string> = {
  day: "day",
  model: "coalesce(model, '(unknown)')",
  provider: "provider",
  key: "client",
  session: "session_id",
};

export interface UsageReportRow {
  group: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** Answers from lynkr's prompt cache. */
  cache_hits: number;
  cost_usd: number;
  saved_usd: number;
}

export function usageReport(db: Database, by: UsageGrouping, since: number): UsageReportRow[] {
  const column = groupColumn[by];
  return db
    .query<UsageReportRow, [number]>(
      `SELECT ${column} AS "group", count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
         sum(cache_read_input_tokens) AS cache_read_input_tokens, sum(cache_creation_input_tokens) AS cache_creation_input_tokens,
         sum(cached) AS cache_hits, coalesce(sum(cost_usd), 0) AS cost_usd, coalesce(sum(saved_usd), 0) AS saved_usd
       FROM usage WHERE created_at >= ? GROUP BY 1 ORDER BY ${by === "day" ? "1" : "cost_usd DESC, requests DESC"}`,
    )
    .all(since);
}
