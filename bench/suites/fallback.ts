import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { configureLogger } from "../../src/observability/logger.ts";
import { startGateway } from "../../src/server/serve.ts";

// Failover cost: Ollama (the hybrid tier) refuses connections and a cloud provider answers.
// Time per request as a client sees it, against the same cloud provider called alone (the
// baseline, same run). Aim: < 20 ms added once the breaker is open.

interface BenchSection {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

const requests = 200;

const events = [
  { type: "message_start", message: { id: "msg_bench", type: "message", role: "assistant", model: "claude-bench", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ok" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } },
  { type: "message_stop" },
];
const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");

function refusedUrl(): string {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return `http://127.0.0.1:${port}`;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function timings(env: Record<string, string>, warmup: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "lynkr-bench-fallback-"));
  const gateway = startGateway(loadConfig({ env: { PORT: "0", HOST: "127.0.0.1", HOME: dir, SESSION_DB_PATH: join(dir, "lynkr.db"), ...env }, cwd: dir }));
  const body = JSON.stringify({ model: "claude-x", max_tokens: 16, stream: true, messages: [{ role: "user", content: "hi" }] });
  const call = async () => {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body });
    if (res.status !== 200) throw new Error(`bench request failed: HTTP ${res.status} ${await res.text()}`);
    await res.text();
  };
  try {
    for (let i = 0; i < warmup; i++) await call();
    const out: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      await call();
      out.push(performance.now() - started);
    }
    return out;
  } finally {
    await gateway.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function fallbackBench(): Promise<BenchSection> {
  configureLogger("silent", "json");
  const cloud = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(sse, { headers: { "content-type": "text/event-stream" } }) });
  const cloudUrl = `http://127.0.0.1:${cloud.port}`;
  const hybrid = { PREFER_OLLAMA: "true", MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: cloudUrl, OLLAMA_ENDPOINT: refusedUrl() };
  try {
    const baseline = await timings({ MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: cloudUrl }, 20);
    // The breaker never opens: every request tries Ollama's refused port first.
    const refused = await timings({ ...hybrid, CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000000" }, 20);
    // Warm-up opens the breaker (5 failures); measured requests skip Ollama without a connection attempt.
    const open = await timings({ ...hybrid, CIRCUIT_BREAKER_TIMEOUT: "3600000" }, 20);
    const base50 = percentile(baseline, 50);
    const row = (name: string, values: number[]) => [
      name,
      percentile(values, 50).toFixed(2),
      percentile(values, 95).toFixed(2),
      name === "cloud alone (baseline)" ? "-" : (percentile(values, 50) - base50).toFixed(2),
    ];
    return {
      title: "Fallback: Ollama refusing connections, cloud provider answering",
      columns: ["scenario", "p50 ms", "p95 ms", "added p50 ms"],
      rows: [row("cloud alone (baseline)", baseline), row("fallback, breaker closed (connect refused each time)", refused), row("fallback, breaker open", open)],
      notes: [
        `${requests} sequential streaming requests per scenario after 20 warm-up requests, loopback fake upstream; aim: breaker open adds < 20 ms.`,
        "A refused connection fails over at once (no retry) when another provider is in the chain.",
      ],
    };
  } finally {
    await cloud.stop(true);
  }
}
