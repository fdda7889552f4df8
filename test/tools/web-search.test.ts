import { afterAll, beforeAll, expect, test } from "bun:test";
import { searchWeb } from "../../src/tools/web-search.ts";
import { startFakeSearxng } from "../helpers/fake-searxng.ts";
import { jsonResponse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";

// The three search engines, each answered by a loopback stand-in in its documented JSON shape.

const never = new AbortController().signal;
const options = { maxResults: 2 };
let searx: ReturnType<typeof startFakeSearxng>;
let brave: FakeUpstream;
let tavily: FakeUpstream;

beforeAll(() => {
  searx = startFakeSearxng([
    { url: "https://a.example.org/1", title: "One", content: "first", publishedDate: "2026-01-02" },
    { url: "https://blocked.example.net/2", title: "Two", content: "second" },
    { url: "not a url", title: "Broken", content: "skipped" },
    { url: "https://a.example.org/3", title: "", content: "third" },
    { url: "https://a.example.org/4", title: "Four", content: "fourth" },
  ]);
  brave = startFakeUpstream((req) =>
    req.headers.get("x-subscription-token") === "brave-key" && req.url.pathname === "/res/v1/web/search"
      ? jsonResponse({ type: "search", web: { results: [{ url: "https://b.example.org/", title: "Brave hit", description: "from <strong>brave</strong>", page_age: "2026-03-04T00:00:00" }] } })
      : jsonResponse({ error: "unauthorized" }, 401),
  );
  tavily = startFakeUpstream((req) => {
    const body = req.json as { query?: string; max_results?: number };
    return req.headers.get("authorization") === "Bearer tvly-key" && req.method === "POST" && body.query === "lynkr"
      ? jsonResponse({ query: "lynkr", results: [{ url: "https://t.example.org/", title: "Tavily hit", content: "from tavily", score: 0.9 }] })
      : jsonResponse({ detail: "bad" }, 400);
  });
});

afterAll(async () => {
  await Promise.all([searx.stop(), brave.stop(), tavily.stop()]);
});

test("SearxNG: results in order, blocked domains and broken URLs left out, capped, untitled ones titled by URL", async () => {
  const outcome = await searchWeb({ kind: "searxng", endpoint: searx.url }, "lynkr", { ...options, maxResults: 3, blocked_domains: ["blocked.example.net"] }, never);
  expect(outcome).toEqual({
    ok: true,
    results: [
      { url: "https://a.example.org/1", title: "One", snippet: "first", pageAge: "2026-01-02" },
      { url: "https://a.example.org/3", title: "https://a.example.org/3", snippet: "third", pageAge: null },
      { url: "https://a.example.org/4", title: "Four", snippet: "fourth", pageAge: null },
    ],
  });
  expect(searx.queries()).toEqual(["lynkr"]);
});

test("Brave Search and Tavily by API key", async () => {
  expect(await searchWeb({ kind: "brave", endpoint: brave.url, apiKey: "brave-key" }, "lynkr", options, never)).toEqual({
    ok: true,
    results: [{ url: "https://b.example.org/", title: "Brave hit", snippet: "from <strong>brave</strong>", pageAge: "2026-03-04T00:00:00" }],
  });
  expect(await searchWeb({ kind: "tavily", endpoint: tavily.url, apiKey: "tvly-key" }, "lynkr", options, never)).toEqual({
    ok: true,
    results: [{ url: "https://t.example.org/", title: "Tavily hit", snippet: "from tavily", pageAge: null }],
  });
  expect(await searchWeb({ kind: "brave", endpoint: brave.url, apiKey: "wrong" }, "lynkr", options, never)).toMatchObject({ ok: false, errorCode: "unavailable", detail: "brave answered HTTP 401" });
});

test("bad queries and engines that do not answer as documented", async () => {
  expect(await searchWeb({ kind: "searxng", endpoint: searx.url }, "  ", options, never)).toMatchObject({ ok: false, errorCode: "invalid_tool_input" });
  expect(await searchWeb({ kind: "searxng", endpoint: searx.url }, "x".repeat(401), options, never)).toMatchObject({ ok: false, errorCode: "query_too_long" });
  const html = startFakeUpstream(() => new Response("<html>searx without json</html>"));
  try {
    const outcome = await searchWeb({ kind: "searxng", endpoint: html.url }, "lynkr", options, never);
    expect(outcome).toMatchObject({ ok: false, errorCode: "unavailable" });
    if (!outcome.ok) expect(outcome.detail).toContain("format=json");
  } finally {
    await html.stop();
  }
});

test("an engine's endless answer is read no further than its cap", async () => {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const endless = startFakeUpstream(
    () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        }),
        { headers: { "content-type": "application/json" } },
      ),
  );
  try {
    const outcome = await searchWeb({ kind: "searxng", endpoint: endless.url }, "lynkr", options, never);
    expect(outcome).toEqual({ ok: false, errorCode: "unavailable", detail: "searxng answer too large" });
    // What was in flight when the cap hit (socket buffers) is all that was sent.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  } finally {
    await endless.stop();
  }
});
