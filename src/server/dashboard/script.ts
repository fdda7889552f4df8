// The dashboard's script: polls GET /metrics/dashboard, keeps a short history in the tab for
// the two charts (request rate from the request counter's growth, latency percentiles), and
// fills the cards and tables. Plain DOM and SVG; written without template literals so that it
// can sit inside the page's own.
export const dashboardScript = String.raw`
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var intervalMs = Math.max(500, Number(params.get("interval") || 2000));
  var keyStore = "lynkr-dashboard-key";
  var history = [];
  var maxPoints = 90;
  var last = null;
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };
  $("interval").textContent = String(intervalMs / 1000);

  function fmt(n, digits) { return Number(n || 0).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 0 : digits }); }
  function usd(n) { return "$" + Number(n || 0).toFixed(n >= 1 ? 2 : 4); }
  function text(el, value) { el.textContent = value; }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  // A cell's value is its text, or { text, className } when it needs its own look (a state, an error).
  function cell(tr, value, numeric, tag) {
    var td = document.createElement(tag || "td");
    var styled = value !== null && typeof value === "object";
    td.textContent = styled ? value.text : value;
    td.className = [numeric ? "n" : "", styled ? value.className : ""].join(" ").trim();
    tr.appendChild(td);
  }
  function table(el, headers, rows, numericFrom, emptyText) {
    clear(el);
    var head = document.createElement("tr");
    headers.forEach(function (h, i) { cell(head, h, i >= numericFrom, "th"); });
    el.appendChild(head);
    if (rows.length === 0) {
      var empty = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = headers.length;
      td.className = "muted";
      td.textContent = emptyText || "none yet";
      empty.appendChild(td);
      el.appendChild(empty);
    }
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (v, i) { cell(tr, v, i >= numericFrom); });
      el.appendChild(tr);
    });
  }

  var svgNs = "http://www.w3.org/2000/svg";
  function svgEl(name, attrs) {
    var el = document.createElementNS(svgNs, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
    return el;
  }
  // Lines over the kept history; y from 0 to the largest value (at least 1), three grid lines.
  function chart(svg, series) {
    clear(svg);
    var w = 600, h = 160, top = 12, bottom = 4;
    var max = 1;
    series.forEach(function (s) { s.forEach(function (v) { if (v > max) max = v; }); });
    [0, 0.5, 1].forEach(function (f) {
      var y = top + (h - top - bottom) * (1 - f);
      svg.appendChild(svgEl("line", { x1: 0, x2: w, y1: y, y2: y, class: "grid" }));
      var label = svgEl("text", { x: 2, y: y - 2, class: "axis" });
      label.textContent = fmt(max * f, max * f < 10 ? 1 : 0);
      svg.appendChild(label);
    });
    series.forEach(function (s, i) {
      if (s.length === 0) return;
      var step = w / Math.max(1, maxPoints - 1);
      var offset = w - step * (s.length - 1);
      var points = s.map(function (v, j) {
        return (offset + j * step).toFixed(1) + "," + (top + (h - top - bottom) * (1 - v / max)).toFixed(1);
      });
      svg.appendChild(svgEl("polyline", { points: points.join(" "), class: "s" + i, "data-points": s.length }));
    });
  }

  var outcomes = ["ok", "error", "refused"];
  // Server-tool runs by tool label (web_search, web_fetch, mcp:<server>), one count per outcome.
  function toolCalls(rows) {
    var byTool = {};
    rows.forEach(function (r) {
      byTool[r.tool] = byTool[r.tool] || { ok: 0, error: 0, refused: 0 };
      byTool[r.tool][r.outcome] = (byTool[r.tool][r.outcome] || 0) + r.count;
    });
    return byTool;
  }
  // A server that failed and is being started again reads "restarting", not "starting".
  function mcpState(s) {
    var state = s.state === "starting" && s.restarts > 0 ? "restarting" : s.state;
    return { text: state, className: state === "ready" ? "good" : state === "failed" ? "bad" : "" };
  }
  function renderMcp(m) {
    var calls = toolCalls(m.server_tool_calls);
    var ready = m.servers.filter(function (s) { return s.state === "ready"; });
    text($("mcp-ready"), m.servers.length === 0 ? "none" : ready.length + " / " + m.servers.length);
    text($("mcp-tools"), m.servers.length === 0 ? "no MCP servers configured" : "ready · " + fmt(ready.reduce(function (n, s) { return n + s.tools.length; }, 0)) + " tools listed");
    table($("mcp"), ["server", "state", "transport", "tools", "calls ok / error / refused", "restarts", "detail"], m.servers.map(function (s) {
      var c = calls["mcp:" + s.name] || { ok: 0, error: 0, refused: 0 };
      return [s.name, mcpState(s), s.transport, { text: fmt(s.tools.length), className: "n" },
        { text: outcomes.map(function (o) { return fmt(c[o]); }).join(" / "), className: "n" }, { text: fmt(s.restarts), className: "n" },
        s.error ? { text: s.error, className: "bad" } : s.tools.join(", ")];
    }), 99, "none configured");
    text($("mcp-problems"), m.config_problems.join(" · "));
    table($("tool-calls"), ["tool", "ok", "error", "refused"], Object.keys(calls).sort().map(function (tool) {
      return [tool].concat(outcomes.map(function (o) { return fmt(calls[tool][o]); }));
    }), 1);
  }

  function render(d) {
    var now = Date.now();
    var t = d.totals;
    var rate = last ? Math.max(0, (t.requests - last.requests) / ((now - last.at) / 60000)) : 0;
    last = { requests: t.requests, at: now };
    history.push({ rate: rate, p50: t.latency_ms.p50 || 0, p95: t.latency_ms.p95 || 0 });
    if (history.length > maxPoints) history.shift();

    text($("gateway"), d.gateway.provider + (d.gateway.model ? " · " + d.gateway.model : "") + " → " + d.gateway.upstream + " · lynkr " + d.gateway.version + " · up " + fmt(d.uptime_seconds) + " s");
    text($("requests-total"), fmt(t.requests));
    text($("errors-total"), fmt(t.errors) + " errors · " + fmt(t.input_tokens) + " in / " + fmt(t.output_tokens) + " out tokens");
    text($("request-rate"), fmt(rate, 1));
    text($("latency"), [t.latency_ms.p50, t.latency_ms.p95, t.latency_ms.p99].map(function (v) { return v === undefined || v === null ? "–" : fmt(v); }).join(" / "));
    text($("spend"), usd(d.spend.today_usd));
    var b = d.spend.budgets;
    text($("budget"), b.daily_usd === null ? "no daily budget (BUDGET_DAILY_USD)" : fmt(100 * d.spend.today_usd / b.daily_usd, 1) + "% of " + usd(b.daily_usd) + " daily budget");
    var hits = d.cache.hit || 0, misses = d.cache.miss || 0;
    text($("cache-ratio"), hits + misses === 0 ? "–" : fmt(100 * hits / (hits + misses), 1) + "%");
    text($("cache-saved"), fmt(hits) + " hits · saved " + usd(d.cache.saved_usd));
    var up = d.upstream_cache_today;
    text($("upstream-cache"), up.input_tokens === 0 ? "–" : fmt(100 * up.share, 1) + "%");
    text($("upstream-cache-tokens"), fmt(up.read_tokens) + " of " + fmt(up.input_tokens) + " input tokens");
    text($("memories"), d.long_term_memory.enabled ? fmt(d.long_term_memory.memories) : "off");
    text($("memories-state"), d.long_term_memory.enabled ? "memories kept" : "MEMORY_ENABLED=false");
    text($("active"), fmt(d.active_requests));
    text($("memory"), fmt(d.memory.rss_bytes / 1048576, 1) + " MB resident");

    renderMcp(d.mcp);

    chart($("rate-chart"), [history.map(function (p) { return p.rate; })]);
    chart($("latency-chart"), [history.map(function (p) { return p.p50; }), history.map(function (p) { return p.p95; })]);

    table($("providers"), ["provider", "model", "requests", "errors", "p95 ms", "cost"], d.by_provider_model.map(function (r) {
      return [r.provider, r.model, fmt(r.requests), fmt(r.errors), r.latency_ms.p95 === undefined || r.latency_ms.p95 === null ? "–" : fmt(r.latency_ms.p95), usd(r.cost_usd)];
    }), 2);
    table($("decisions"), ["rule", "requests"], Object.keys(d.routing.decisions).map(function (k) { return [k, fmt(d.routing.decisions[k])]; }), 1);
    table($("fallbacks"), ["from", "to", "reason", "count"], d.routing.fallbacks.map(function (f) { return [f.from, f.to, f.reason, fmt(f.count)]; }), 3);
    table($("circuits"), ["provider", "state", "retry in s"], d.circuit_breakers.map(function (c) {
      return [c.provider, c.state, c.retry_in_ms > 0 ? fmt(c.retry_in_ms / 1000, 1) : ""];
    }), 2);
    table($("rejected"), ["reason", "count"], Object.keys(d.rejected).map(function (k) { return [k, fmt(d.rejected[k])]; }), 1);
    table($("recent"), ["time", "session", "provider", "model", "status", "ms", "tokens in/out", "cost", "route"], d.recent.map(function (r) {
      return [new Date(r.created_at).toLocaleTimeString(), String(r.session_id).slice(0, 8), r.provider, r.model || r.requested_model, String(r.status),
        fmt(r.latency_ms), fmt((r.input_tokens || 0) + (r.cache_read_input_tokens || 0)) + " / " + fmt(r.output_tokens), r.cost_usd === null ? "–" : usd(r.cost_usd), r.route || ""];
    }), 99);
  }

  function setStatus(ok, label) {
    var s = $("status");
    s.className = "pill " + (ok ? "ok" : "down");
    s.textContent = label;
  }

  function askForKey(message) {
    $("main").hidden = true;
    $("key-form").hidden = false;
    text($("key-error"), message || "");
    $("key-input").focus();
  }

  function poll() {
    var key = sessionStorage.getItem(keyStore);
    var headers = key ? { authorization: "Bearer " + key } : {};
    fetch("/metrics/dashboard", { headers: headers, cache: "no-store" }).then(function (res) {
      if (res.status === 401) {
        setStatus(false, "key needed");
        sessionStorage.removeItem(keyStore);
        askForKey(key ? "That key was not accepted." : "");
        return null;
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    }).then(function (d) {
      if (!d) return;
      $("key-form").hidden = true;
      $("main").hidden = false;
      setStatus(true, "live");
      render(d);
      timer = setTimeout(poll, intervalMs);
    }).catch(function () {
      setStatus(false, "unreachable");
      timer = setTimeout(poll, intervalMs);
    });
  }

  // Asks for a key before the first poll when the gateway wants one (its readiness answer says),
  // rather than after a refused request.
  function start() {
    fetch("/health/ready", { cache: "no-store" }).then(function (res) { return res.json(); }).then(function (ready) {
      if (ready.auth === "keys" && !sessionStorage.getItem(keyStore)) {
        setStatus(false, "key needed");
        askForKey("");
      } else poll();
    }).catch(function () { poll(); });
  }

  $("key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var key = $("key-input").value.trim();
    if (!key) return;
    sessionStorage.setItem(keyStore, key);
    if (timer) clearTimeout(timer);
    poll();
  });
  start();
})();
`;
