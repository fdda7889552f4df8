import { z } from "zod";
import { domainAllowed, type DomainFilter } from "./domains.ts";

// web_search for backends that cannot run Anthropic's: one query to a SearxNG instance's JSON
// API (WEB_SEARCH_ENDPOINT, `search.formats: [json]` in its settings).

export interface SearchResult {
  url: string;
  title: string;
  snippet: string;
  /** As the engine gave it (SearxNG's publishedDate), else null. */
  pageAge: string | null;
}

export type WebSearchOutcome = { ok: true; results: SearchResult[] } | { ok: false; errorCode: "invalid_tool_input" | "unavailable" | "query_too_long"; detail: string };

const searxngSchema = z.object({
  results: z
    .array(
      z.looseObject({
        url: z.string(),
        title: z.string().optional(),
        content: z.string().optional(),
        publishedDate: z.string().nullish(),
      }),
    )
    .max(500),
});

const maxQueryLength = 400;
const maxAnswerBytes = 2 * 1024 * 1024;
const maxSnippetChars = 1000;

export async function searxngSearch(
  endpoint: string,
  query: string,
  options: DomainFilter & { maxResults: number },
  signal: AbortSignal,
): Promise<WebSearchOutcome> {
  const q = query.trim();
  if (q === "") return { ok: false, errorCode: "invalid_tool_input", detail: "empty query" };
  if (q.length > maxQueryLength) return { ok: false, errorCode: "query_too_long", detail: `query longer than ${maxQueryLength} characters` };
  const url = new URL(`${endpoint}/search`);
  url.searchParams.set("q", q);
  url.searchParams.set("format", "json");
  let response: Response;
  try {
    response = await fetch(url, { signal, headers: { accept: "application/json" } });
  } catch (error) {
    if (signal.aborted) throw error;
    return { ok: false, errorCode: "unavailable", detail: `search engine unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
  const text = await response.text();
  if (!response.ok) return { ok: false, errorCode: "unavailable", detail: `search engine answered HTTP ${response.status}` };
  if (text.length > maxAnswerBytes) return { ok: false, errorCode: "unavailable", detail: "search engine answer too large" };
  let parsed;
  try {
    parsed = searxngSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) return { ok: false, errorCode: "unavailable", detail: "search engine answer is not SearxNG JSON (is format=json enabled?)" };
  const results: SearchResult[] = [];
  for (const r of parsed.data.results) {
    let host: string;
    try {
      host = new URL(r.url).hostname;
    } catch {
      continue;
    }
    if (!domainAllowed(host, options)) continue;
    results.push({ url: r.url, title: r.title?.trim() || r.url, snippet: (r.content ?? "").slice(0, maxSnippetChars), pageAge: r.publishedDate ?? null });
    if (results.length >= options.maxResults) break;
  }
  return { ok: true, results };
}
