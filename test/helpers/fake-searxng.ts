import { jsonResponse, startFakeUpstream, type FakeUpstream } from "./fake-upstream.ts";

// A SearxNG stand-in on loopback: GET /search?q=…&format=json answered with scripted results in
// SearxNG's JSON shape (url, title, content, publishedDate).

export interface SearxResult {
  url: string;
  title: string;
  content: string;
  publishedDate?: string | null;
}

export function startFakeSearxng(results: SearxResult[]): FakeUpstream & { queries(): string[] } {
  const upstream = startFakeUpstream((req) => {
    if (req.url.pathname !== "/search" || req.url.searchParams.get("format") !== "json") return new Response("forbidden", { status: 403 });
    const q = req.url.searchParams.get("q") ?? "";
    return jsonResponse({ query: q, number_of_results: results.length, results: results.map((r) => ({ engine: "fake", score: 1, ...r })) });
  });
  return { ...upstream, queries: () => upstream.received.map((r) => r.url.searchParams.get("q") ?? "") };
}
