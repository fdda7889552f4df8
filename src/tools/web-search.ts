import { z } from "zod";
import { domainAllowed, type DomainFilter } from "./domains.ts";
import { readCapped } from "./read-capped.ts";

// web_search for backends that cannot run Anthropic's: one query to a search engine. SearxNG
// (self-hosted, its JSON API: `search.formats: [json]` in its settings), or Brave Search or
// Tavily by API key. Each engine's answer is checked and reduced to url, title, snippet, age.

type SearchEngineKind = "searxng" | "brave" | "tavily";

export interface SearchEngine {
  kind: SearchEngineKind;
  /** Base URL, without a trailing slash. */
  endpoint: string;
  apiKey?: string;
}

export const defaultEndpoints: Record<SearchEngineKind, string | undefined> = {
  searxng: undefined,
  brave: "https://api.search.brave.com",
  tavily: "https://api.tavily.com",
};

export interface SearchResult {
  url: string;
  title: string;
  snippet: string;
  /** As the engine gave it, else null. */
  pageAge: string | null;
}

type WebSearchOutcome = { ok: true; results: SearchResult[] } | { ok: false; errorCode: "invalid_tool_input" | "unavailable" | "query_too_long"; detail: string };

const maxQueryLength = 400;
const maxAnswerBytes = 2 * 1024 * 1024;
const maxSnippetChars = 1000;
const maxRawResults = 500;

const searxngAnswer = z.object({
  results: z.array(z.looseObject({ url: z.string(), title: z.string().optional(), content: z.string().optional(), publishedDate: z.string().nullish() })).max(maxRawResults),
});
const braveAnswer = z.object({
  web: z
    .object({
      results: z.array(z.looseObject({ url: z.string(), title: z.string().optional(), description: z.string().optional(), page_age: z.string().nullish(), age: z.string().nullish() })).max(maxRawResults),
    })
    .optional(),
});
const tavilyAnswer = z.object({
  results: z.array(z.looseObject({ url: z.string(), title: z.string().optional(), content: z.string().optional(), published_date: z.string().nullish() })).max(maxRawResults),
});

type Raw = { url: string; title?: string; snippet?: string; age?: string | null };

/** The engine's request, and how to read its answer. */
function engineCall(engine: SearchEngine, query: string, count: number): { request: Request; read: (json: unknown) => Raw[] | undefined } {
  switch (engine.kind) {
    case "searxng": {
      const url = new URL(`${engine.endpoint}/search`);
      url.searchParams.set("q", query);
      url.searchParams.set("format", "json");
      return {
        request: new Request(url.href, { headers: { accept: "application/json" } }),
        read: (json) => searxngAnswer.safeParse(json).data?.results.map((r) => ({ url: r.url, title: r.title, snippet: r.content, age: r.publishedDate })),
      };
    }
    case "brave": {
      const url = new URL(`${engine.endpoint}/res/v1/web/search`);
      url.searchParams.set("q", query);
      url.searchParams.set("count", String(Math.min(20, count)));
      return {
        request: new Request(url.href, { headers: { accept: "application/json", "x-subscription-token": engine.apiKey ?? "" } }),
        read: (json) => {
          const parsed = braveAnswer.safeParse(json);
          return parsed.success ? (parsed.data.web?.results ?? []).map((r) => ({ url: r.url, title: r.title, snippet: r.description, age: r.page_age ?? r.age })) : undefined;
        },
      };
    }
    case "tavily":
      return {
        request: new Request(`${engine.endpoint}/search`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${engine.apiKey ?? ""}` },
          body: JSON.stringify({ query, max_results: Math.min(20, count) }),
        }),
        read: (json) => tavilyAnswer.safeParse(json).data?.results.map((r) => ({ url: r.url, title: r.title, snippet: r.content, age: r.published_date })),
      };
  }
}

export async function searchWeb(engine: SearchEngine, query: string, options: DomainFilter & { maxResults: number }, signal: AbortSignal): Promise<WebSearchOutcome> {
  const q = query.trim();
  if (q === "") return { ok: false, errorCode: "invalid_tool_input", detail: "empty query" };
  if (q.length > maxQueryLength) return { ok: false, errorCode: "query_too_long", detail: `query longer than ${maxQueryLength} characters` };
  // Filtered results may leave fewer than asked: ask for a few more.
  const { request, read } = engineCall(engine, q, options.maxResults * 2);
  let response: Response;
  try {
    response = await fetch(request, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    return { ok: false, errorCode: "unavailable", detail: `${engine.kind} unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, errorCode: "unavailable", detail: `${engine.kind} answered HTTP ${response.status}` };
  }
  const answer = await readCapped(response, maxAnswerBytes);
  if (answer.truncated) return { ok: false, errorCode: "unavailable", detail: `${engine.kind} answer too large` };
  let raw: Raw[] | undefined;
  try {
    raw = read(JSON.parse(new TextDecoder().decode(answer.bytes)));
  } catch {
    raw = undefined;
  }
  if (!raw) return { ok: false, errorCode: "unavailable", detail: `${engine.kind} answer is not in its documented JSON shape${engine.kind === "searxng" ? " (is format=json enabled?)" : ""}` };
  const results: SearchResult[] = [];
  for (const r of raw) {
    let host: string;
    try {
      host = new URL(r.url).hostname;
    } catch {
      continue;
    }
    if (!domainAllowed(host, options)) continue;
    results.push({ url: r.url, title: r.title?.trim() || r.url, snippet: (r.snippet ?? "").slice(0, maxSnippetChars), pageAge: r.age ?? null });
    if (results.length >= options.maxResults) break;
  }
  return { ok: true, results };
}
