import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { configureLogger } from "../src/observability/logger.ts";
import { startGateway } from "../src/app.ts";
import { anthropicSse, wireDir } from "../test/helpers/fake-upstream.ts";
import { spawnLynkrInTempDir } from "../test/helpers/lynkr-process.ts";
import { turnEvents, turnMessage } from "../test/helpers/scripted-anthropic.ts";

// Shared pieces of the benchmark suites: what a suite returns, percentiles, the Markdown
// printer, the gateway (in this process or as its own process), fast fake upstreams and the
// recorded Claude Code request.

/** What every `bench/suites/*.ts` default export resolves to; printed as one Markdown table. */
export interface BenchSection {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Milliseconds with a precision that suits sub-millisecond figures. */
export function ms(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/**
 * The table of scenarios timed against a baseline: each row's p50 and p95, and how much its p50
 * adds to the baseline's (the first scenario).
 */
export function latencyAgainstBaseline(
  baseline: [name: string, values: number[]],
  scenarios: [name: string, values: number[]][],
): Pick<BenchSection, "columns" | "rows"> {
  const base50 = percentile(baseline[1], 50);
  const row = ([name, values]: [string, number[]], added: string) => [name, ms(percentile(values, 50), 2), ms(percentile(values, 95), 2), added];
  return {
    columns: ["scenario", "p50 ms", "p95 ms", "added p50 ms"],
    rows: [row(baseline, "-"), ...scenarios.map((s) => row(s, ms(percentile(s[1], 50) - base50, 2)))],
  };
}

export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

export function markdownTable(section: BenchSection): string {
  const cell = (v: string | number) => String(v).replaceAll("|", "\\|");
  const lines = [
    `## ${section.title}`,
    "",
    `| ${section.columns.map(cell).join(" | ")} |`,
    `| ${section.columns.map(() => "---").join(" | ")} |`,
    ...section.rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
  if (section.notes?.length) lines.push("", ...section.notes.map((n) => `- ${n}`));
  return `${lines.join("\n")}\n`;
}

/** Runs `fn` `count` times one after another and returns each duration in ms. */
export async function timeEach(count: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await fn();
    out.push(performance.now() - started);
  }
  return out;
}

export interface BenchGateway {
  url: string;
  /** Resident set size of the gateway, in bytes (the whole process when in-process). */
  rss(): number;
  stop(): Promise<void>;
}

/**
 * The prompt cache would answer a suite's repeated request itself, and the suite would time
 * replays instead of the path it means to measure: off unless a suite turns it on.
 */
const cacheOff = { PROMPT_CACHE_ENABLED: "false" };

function benchEnv(dir: string, env: Record<string, string>): Record<string, string> {
  return { PORT: "0", HOST: "127.0.0.1", HOME: dir, SESSION_DB_PATH: join(dir, "lynkr.db"), LOG_LEVEL: "silent", ...cacheOff, ...env };
}

/** The gateway inside the benchmark process: cheapest to start, shares its event loop with the client. */
export function startGatewayInProcess(env: Record<string, string>): BenchGateway {
  const dir = mkdtempSync(join(tmpdir(), "lynkr-bench-"));
  configureLogger("silent", "json");
  const running = startGateway(loadConfig({ env: benchEnv(dir, env), cwd: dir }));
  return {
    url: running.url,
    rss: () => process.memoryUsage().rss,
    async stop() {
      await running.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `lynkr start` as its own process (like a user runs it), so its RSS and event loop are its own. */
export async function spawnGateway(env: Record<string, string>): Promise<BenchGateway> {
  // LOG_LEVEL=info: spawnLynkr waits for its "listening on" line.
  const lynkr = await spawnLynkrInTempDir({ ...cacheOff, ...env, LOG_LEVEL: "info" });
  return {
    url: lynkr.url,
    rss: () => rssOf(lynkr.pid),
    async stop() {
      await lynkr.stop();
      rmSync(lynkr.dir, { recursive: true, force: true });
    },
  };
}

/** RSS of another process from /proc (Linux), in bytes. */
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = status.match(/^VmRSS:\s+(\d+) kB/m)?.[1];
    return kb ? Number(kb) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface FakeUpstream {
  url: string;
  /** Requests answered so far. */
  readonly requests: number;
  stop(): Promise<void>;
}

/**
 * A loopback upstream that answers at once. It reads each body in full, as a real upstream
 * does, but never parses more than `answer` needs to pick the answer.
 */
function startFastUpstream(answer: (path: string, body: string) => Response): FakeUpstream {
  let requests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      requests++;
      return answer(new URL(req.url).pathname, await req.text());
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    get requests() {
      return requests;
    },
    stop: () => server.stop(true),
  };
}

/** An Anthropic-wire upstream: SSE when the body asks for a stream, one JSON message otherwise, a token count on count_tokens. */
export function startFakeAnthropicUpstream(reply = "ok"): FakeUpstream {
  const turn = { blocks: [{ type: "text" as const, text: reply }] };
  const sse = anthropicSse(turnEvents(turn, "claude-bench")).join("");
  const message = JSON.stringify(turnMessage(turn, "claude-bench"));
  return startFastUpstream((path, body) => {
    if (path.endsWith("/count_tokens")) return new Response('{"input_tokens":10}', { headers: { "content-type": "application/json" } });
    return /"stream"\s*:\s*true/.test(body)
      ? new Response(sse, { headers: { "content-type": "text/event-stream; charset=utf-8" } })
      : new Response(message, { headers: { "content-type": "application/json" } });
  });
}

/** An Anthropic-wire upstream answering every request 529 overloaded_error, as Anthropic does when it is at capacity. */
export function startOverloadedUpstream(): FakeUpstream {
  const body = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
  return startFastUpstream(() => new Response(body, { status: 529, headers: { "content-type": "application/json" } }));
}

/** An OpenAI-compatible upstream answering every request with the chat completion stream `sse`. */
export function startFakeOpenAiUpstream(sse: string): FakeUpstream {
  return startFastUpstream(() => new Response(sse, { headers: { "content-type": "text/event-stream" } }));
}

/**
 * Throws unless `upstream` answered at least `sent` requests since it had answered `before`: a
 * suite that times the way to the upstream must not be timing answers from the prompt cache.
 */
export function assertReachedUpstream(upstream: FakeUpstream, before: number, sent: number): void {
  const reached = upstream.requests - before;
  if (reached < sent) throw new Error(`only ${reached} of ${sent} requests reached the fake upstream: something else answered them`);
}

export interface RecordedRequest {
  /** Path and query, as Claude Code sent them. */
  path: string;
  /** Its headers less credentials and the connection's own (host, length, keep-alive, encoding). */
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** The recorded Claude Code 2.1.328 request (~50 KB), ready to send again. */
export async function recordedClaudeCodeRequest(): Promise<RecordedRequest> {
  const recorded = (await Bun.file(`${wireDir}claude-code-2.1.328-request.json`).json()) as { url: string; headers: Record<string, string>; body: Record<string, unknown> };
  const dropped = new Set(["host", "content-length", "connection", "authorization", "x-api-key", "accept-encoding"]);
  const headers = Object.fromEntries(Object.entries(recorded.headers).filter(([name]) => !dropped.has(name)));
  const url = new URL(recorded.url, "http://x");
  return { path: url.pathname + url.search, headers, body: recorded.body };
}
