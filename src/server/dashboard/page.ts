import type { Context } from "hono";
import type { AppEnv } from "../context.ts";
import { dashboardScript } from "./script.ts";
import { dashboardStyle } from "./style.ts";

// GET /dashboard: one self-contained page (no external assets, no build step) that polls
// GET /metrics/dashboard and draws plain SVG. It carries no data itself; with LYNKR_API_KEYS
// set the JSON needs a key, which the page asks for and keeps in the tab's sessionStorage.

const markup = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lynkr dashboard</title>
<style>${dashboardStyle}</style>
</head>
<body>
<header>
  <h1>lynkr</h1>
  <span id="gateway" class="muted">connecting…</span>
  <span id="status" class="pill">…</span>
</header>
<form id="key-form" hidden>
  <p>This gateway requires a client key (one of <code>LYNKR_API_KEYS</code>).</p>
  <input id="key-input" type="password" autocomplete="off" placeholder="client key" aria-label="client key">
  <button type="submit">Open dashboard</button>
  <p id="key-error" class="bad"></p>
</form>
<main id="main" hidden>
  <section class="cards">
    <div class="card"><div class="label">requests</div><div class="value" id="requests-total">0</div><div class="sub" id="errors-total"></div></div>
    <div class="card"><div class="label">request rate</div><div class="value" id="request-rate">–</div><div class="sub">per minute, last interval</div></div>
    <div class="card"><div class="label">latency p50 / p95 / p99</div><div class="value" id="latency">–</div><div class="sub">ms, last 1,024 requests</div></div>
    <div class="card"><div class="label">spend today (UTC)</div><div class="value" id="spend">–</div><div class="sub" id="budget"></div></div>
    <div class="card"><div class="label">lynkr cache hit ratio</div><div class="value" id="cache-ratio">–</div><div class="sub" id="cache-saved"></div></div>
    <div class="card"><div class="label">upstream cache read today</div><div class="value" id="upstream-cache">–</div><div class="sub" id="upstream-cache-tokens"></div></div>
    <div class="card"><div class="label">long-term memory</div><div class="value" id="memories">–</div><div class="sub" id="memories-state"></div></div>
    <div class="card"><div class="label">MCP servers</div><div class="value" id="mcp-ready">–</div><div class="sub" id="mcp-tools"></div></div>
    <div class="card"><div class="label">in flight / memory</div><div class="value" id="active">–</div><div class="sub" id="memory"></div></div>
  </section>
  <section class="charts">
    <figure><figcaption>requests per minute</figcaption><svg id="rate-chart" viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="request rate"></svg></figure>
    <figure><figcaption>latency p50 / p95 (ms)</figcaption><svg id="latency-chart" viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="latency"></svg></figure>
  </section>
  <section class="tables">
    <div><h2>providers and models</h2><table id="providers"></table></div>
    <div><h2>routing decisions</h2><table id="decisions"></table><h2>fallbacks</h2><table id="fallbacks"></table></div>
    <div><h2>circuit breakers</h2><table id="circuits"></table><h2>refused</h2><table id="rejected"></table></div>
  </section>
  <section class="mcp">
    <div><h2>MCP servers</h2><table id="mcp"></table><p id="mcp-problems" class="bad"></p></div>
    <div><h2>server-tool calls</h2><table id="tool-calls"></table></div>
  </section>
  <section><h2>latest requests</h2><table id="recent"></table></section>
</main>
<footer class="muted">polls <code>/metrics/dashboard</code> every <span id="interval"></span> s</footer>
<script>${dashboardScript}</script>
</body>
</html>
`;

export function dashboardPage(c: Context<AppEnv>): Response {
  return c.html(markup, 200, {
    // Everything is inline; nothing may be loaded from elsewhere, nor the page framed.
    "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'",
    "cache-control": "no-store",
  });
}
