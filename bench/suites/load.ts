import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PromptKey } from "../../src/cache/key.ts";
import { GatewayMetrics } from "../../src/observability/metrics/gateway-metrics.ts";
import { RequestFacts } from "../../src/observability/request-facts.ts";
import { buildBinary } from "../../test/helpers/binary.ts";
import { chatChunk, openAiSse } from "../../test/helpers/fake-upstream.ts";
import { spawnLynkr } from "../../test/helpers/lynkr-process.ts";
import {
  assertReachedUpstream,
  type BenchGateway,
  type BenchSection,
  type FakeUpstream,
  median,
  mib,
  ms,
  percentile,
  recordedClaudeCodeRequest,
  type RecordedRequest,
  spawnGateway,
  startFakeAnthropicUpstream,
  startFakeOpenAiUpstream,
  startGatewayInProcess,
} from "../lib.ts";

// Lynkr under load, and what the operations features (auth, rate limits, budgets, prompt cache,
// load shedding) cost: the same fake upstreams called directly, through a gateway with all of
// them off, and through one with all of them on (every request unique, so the cache looks up
// and stores but never answers). Requests: a small one and the recorded Claude Code 2.1.328
// request (~50 KB), streamed as Claude Code streams. Also throughput at concurrency 64 with
// RSS under load, the OpenAI-compatible path, cold start of the built binary, and the cost of
// recording one request in the metrics. The on/off latency comparison is made twice: with the
// gateways as processes (as users run them; several of each, pooled, since one process can be
// luckier than another by more than the features cost) and inside this process with an A/A
// control.

const latencySamples = 250;
/** Gateway processes per mode in the process comparison, pooled. */
const processesPerMode = 4;
const latencyWarmup = 30;
const inProcessSamples = 600;
const loadRounds = 5;
const sliceSeconds = 0.6;
const concurrency = 64;
const lynkrKey = "bench-lynkr-key-0123456789";

interface Shape {
  name: string;
  path: string;
  headers: Record<string, string>;
  /** JSON with `"max_tokens":__N__`: each request gets its own value, so no two are alike. */
  template: string;
}

function shapes(recorded: RecordedRequest): Shape[] {
  const unique = (body: Record<string, unknown>) => JSON.stringify({ ...body, max_tokens: 0, stream: true }).replace('"max_tokens":0', '"max_tokens":__N__');
  return [
    {
      name: "small",
      path: "/v1/messages",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      template: unique({ model: "claude-sonnet-4-5", max_tokens: 0, messages: [{ role: "user", content: "hi" }] }),
    },
    { name: `Claude Code (${(JSON.stringify(recorded.body).length / 1024).toFixed(0)} KB)`, path: recorded.path, headers: recorded.headers, template: unique(recorded.body) },
  ];
}

let counter = 1000;
function requestInit(shape: Shape, key: string | undefined): RequestInit {
  const headers = key ? { ...shape.headers, "x-api-key": key } : shape.headers;
  return { method: "POST", headers, body: shape.template.replace("__N__", String(counter++)) };
}

async function once(url: string, init: RequestInit): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`);
  return performance.now() - started;
}

interface Target {
  label: string;
  url: string;
  key?: string;
  rss?: () => number;
}

/**
 * Sequential requests, targets interleaved so drifting machine load hits them alike, in a new
 * order each round: a gateway's after-answer work (its SQLite writes) must not always land on
 * the same neighbour's request. Every target is `upstream` or a gateway in front of it, and every
 * request must reach it (all unique, so no gateway's prompt cache can answer).
 */
async function latencies(upstream: FakeUpstream, targets: Target[], shape: Shape, samples = latencySamples): Promise<number[][]> {
  const before = upstream.requests;
  const out = targets.map(() => [] as number[]);
  const order = targets.map((_, i) => i);
  for (let i = 0; i < latencyWarmup + samples; i++) {
    order.sort(() => Math.random() - 0.5);
    for (const t of order) {
      const target = targets[t] as Target;
      const took = await once(target.url + shape.path, requestInit(shape, target.key));
      if (i >= latencyWarmup) out[t]?.push(took);
    }
  }
  assertReachedUpstream(upstream, before, (latencyWarmup + samples) * targets.length);
  return out;
}

interface LoadResult {
  rps: number;
  p50: number;
  peakRss: number;
}

/**
 * `concurrency` clients sending back to back, in slices of `sliceSeconds` per target, targets
 * taking turns in a new order each round, so a busy moment on the shared machine does not fall
 * on one of them only. Requests per second, median latency and peak RSS per target.
 */
async function throughput(targets: Target[], makeInit: (target: Target) => RequestInit, path: (target: Target) => string): Promise<LoadResult[]> {
  const stats = targets.map(() => ({ times: [] as number[], seconds: 0, peakRss: 0 }));
  const order = targets.map((_, i) => i);
  for (let round = 0; round < loadRounds; round++) {
    order.sort(() => Math.random() - 0.5);
    for (const t of order) {
      const target = targets[t] as Target;
      const stat = stats[t] as (typeof stats)[number];
      const sampler = setInterval(() => {
        stat.peakRss = Math.max(stat.peakRss, target.rss?.() ?? 0);
      }, 100);
      const started = performance.now();
      const until = started + sliceSeconds * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < until) stat.times.push(await once(target.url + path(target), makeInit(target)));
        }),
      );
      stat.seconds += (performance.now() - started) / 1000;
      clearInterval(sampler);
    }
  }
  return stats.map((s) => ({ rps: s.times.length / s.seconds, p50: median(s.times), peakRss: s.peakRss || Number.NaN }));
}

/** Spawn to first answered /v1/messages of the standalone binary. */
async function coldStart(binary: string, upstreamUrl: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "lynkr-cold-"));
  const started = performance.now();
  const env = { HOME: dir, SESSION_DB_PATH: join(dir, "lynkr.db"), ANTHROPIC_UPSTREAM_URL: upstreamUrl, ANTHROPIC_UPSTREAM_API_KEY: "sk-bench" };
  const lynkr = await spawnLynkr([binary], env, dir);
  try {
    await once(`${lynkr.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' });
    return performance.now() - started;
  } finally {
    await lynkr.stop();
  }
}

/** Microseconds to record one finished request in the metrics registry. */
function recordCostUs(): number {
  const metrics = new GatewayMetrics();
  const facts = new RequestFacts("req_bench", "POST", "/v1/messages", "bench");
  Object.assign(facts, { status: 200, provider: "anthropic", model: "claude-sonnet-4-5", rule: "static", inputTokens: 11400, outputTokens: 300, costUsd: 0.0387, cache: "miss", firstByteMs: 180 });
  const runs = 200_000;
  for (let i = 0; i < 10_000; i++) metrics.record(facts);
  const started = performance.now();
  for (let i = 0; i < runs; i++) metrics.record(facts);
  return ((performance.now() - started) * 1000) / runs;
}

export default async function load(): Promise<BenchSection> {
  const recorded = await recordedClaudeCodeRequest();
  const upstream = startFakeAnthropicUpstream();
  // A short chat completion stream.
  const openai = startFakeOpenAiUpstream(
    openAiSse([
      chatChunk({ role: "assistant", content: "" }),
      chatChunk({ content: "ok" }),
      chatChunk({}, "stop"),
      chatChunk({}, null, { choices: [], usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 } }),
    ]).join(""),
  );
  const common = { MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-bench" };
  const gateways: BenchGateway[] = [];
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  try {
    const offEnv = { LOAD_SHEDDING_ENABLED: "false" };
    const onEnv = {
      LYNKR_API_KEYS: `bench:${lynkrKey}`,
      RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
      RATE_LIMIT_TOKENS_PER_MINUTE: "100000000000",
      BUDGET_SESSION_USD: "1000000",
      BUDGET_KEY_DAILY_USD: "1000000",
      BUDGET_DAILY_USD: "1000000",
      PROMPT_CACHE_ENABLED: "true",
      LOAD_SHEDDING_ENABLED: "true",
    };
    const offs: BenchGateway[] = [];
    const ons: BenchGateway[] = [];
    for (let i = 0; i < processesPerMode; i++) {
      offs.push(await spawnGateway({ ...common, ...offEnv }));
      ons.push(await spawnGateway({ ...common, ...onEnv }));
    }
    gateways.push(...offs, ...ons);
    const [off, on] = [offs[0] as BenchGateway, ons[0] as BenchGateway];
    const viaOpenAi = await spawnGateway({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-bench", OPENAI_ENDPOINT: `${openai.url}/v1/chat/completions` });
    gateways.push(viaOpenAi);
    await Bun.sleep(200);
    const idle = { off: off.rss(), on: on.rss() };

    const targets: Target[] = [
      { label: "operations off", url: off.url, rss: () => off.rss() },
      { label: "operations on", url: on.url, key: lynkrKey, rss: () => on.rss() },
    ];
    const direct: Target = { label: "direct", url: upstream.url };
    let worstProcessRatio = 0;
    for (const shape of shapes(recorded)) {
      const [directTimes = [], ...perProcess] = await latencies(
        upstream,
        [direct, ...offs.map((g) => ({ label: "off", url: g.url })), ...ons.map((g) => ({ label: "on", url: g.url, key: lynkrKey }))],
        shape,
      );
      const base = percentile(directTimes, 50);
      const offTimes = perProcess.slice(0, processesPerMode);
      const onTimes = perProcess.slice(processesPerMode);
      const added = (times: number[][], p = 50) => percentile(times.flat(), p) - percentile(directTimes, p);
      const spread = (times: number[][]) => {
        const each = times.map((t) => percentile(t, 50) - base);
        return `${ms(Math.min(...each))}…${ms(Math.max(...each))}`;
      };
      const ratio = added(onTimes) / added(offTimes);
      worstProcessRatio = Math.max(worstProcessRatio, ratio);
      rows.push([
        `${shape.name}, stream`,
        `latency, concurrency 1, ${processesPerMode} gateway processes per mode`,
        `${ms(base)} ms`,
        `+${ms(added(offTimes))} ms p50 (per process ${spread(offTimes)}), +${ms(added(offTimes, 99))} p99`,
        `+${ms(added(onTimes))} ms p50 (per process ${spread(onTimes)}), +${ms(added(onTimes, 99))} p99`,
        `${ratio.toFixed(2)} (added, on/off)`,
      ]);
    }

    // The same comparison with every gateway inside this process: one JIT, one heap, one
    // scheduler, so two separate processes' differing luck does not count as the features' cost.
    // A second "off" gateway is the control: its distance from the first is the method's noise.
    const inProcess = [offEnv, offEnv, onEnv].map((env) => startGatewayInProcess({ ...common, ...env }));
    let worstRatio = 0;
    let worstControl = 0;
    try {
      const inTargets: Target[] = [
        { label: "direct", url: upstream.url },
        ...inProcess.map((g, i) => ({ label: String(i), url: g.url, ...(i === 2 ? { key: lynkrKey } : {}) })),
      ];
      for (const shape of shapes(recorded)) {
        const [directTimes = [], offA = [], offB = [], onTimes = []] = await latencies(upstream, inTargets, shape, inProcessSamples);
        const base = percentile(directTimes, 50);
        const addedOff = percentile(offA, 50) - base;
        const addedControl = percentile(offB, 50) - base;
        const addedOn = percentile(onTimes, 50) - base;
        worstRatio = Math.max(worstRatio, addedOn / addedOff);
        worstControl = Math.max(worstControl, Math.abs(addedControl / addedOff - 1));
        rows.push([
          `${shape.name}, stream`,
          "latency, concurrency 1, gateways in one process",
          `${ms(base)} ms`,
          `+${ms(addedOff)} ms p50 (control: +${ms(addedControl)})`,
          `+${ms(addedOn)} ms p50 (+${((addedOn - addedOff) * 1000).toFixed(0)} µs)`,
          `${(addedOn / addedOff).toFixed(2)} (added, on/off)`,
        ]);
      }
    } finally {
      await Promise.all(inProcess.map((g) => g.stop()));
    }

    for (const shape of shapes(recorded)) {
      const [directRun, offRun, onRun] = await throughput([direct, ...targets], (target) => requestInit(shape, target.key), () => shape.path);
      rows.push([
        `${shape.name}, stream`,
        `throughput, concurrency ${concurrency}`,
        `${directRun?.rps.toFixed(0)} req/s`,
        `${offRun?.rps.toFixed(0)} req/s (p50 ${ms(offRun?.p50 ?? Number.NaN, 1)} ms), RSS peak ${mib(offRun?.peakRss ?? Number.NaN)} MiB`,
        `${onRun?.rps.toFixed(0)} req/s (p50 ${ms(onRun?.p50 ?? Number.NaN, 1)} ms), RSS peak ${mib(onRun?.peakRss ?? Number.NaN)} MiB`,
        `${((onRun?.rps ?? 0) / (directRun?.rps ?? 1)).toFixed(2)} (on/direct)`,
      ]);
    }

    const openAiBody = (n: number): RequestInit => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"model":"gpt-4o","stream":true,"max_tokens":${n},"messages":[{"role":"user","content":"hi"}]}`,
    });
    const small = shapes(recorded)[0] as Shape;
    const [directOpenAi, throughOpenAi] = (await throughput(
      [
        { label: "direct", url: openai.url },
        { label: "lynkr", url: viaOpenAi.url, rss: () => viaOpenAi.rss() },
      ],
      (target) => (target.label === "direct" ? openAiBody(counter++) : requestInit(small, undefined)),
      (target) => (target.label === "direct" ? "/v1/chat/completions" : "/v1/messages"),
    )) as [LoadResult, LoadResult];
    rows.push([
      "small, stream, OpenAI-compatible upstream",
      `throughput, concurrency ${concurrency}`,
      `${directOpenAi.rps.toFixed(0)} req/s`,
      `${throughOpenAi.rps.toFixed(0)} req/s (p50 ${ms(throughOpenAi.p50, 1)} ms), RSS peak ${mib(throughOpenAi.peakRss)} MiB`,
      "",
      `${(throughOpenAi.rps / directOpenAi.rps).toFixed(2)} (lynkr/direct)`,
    ]);

    const binary = await buildBinary();
    const cold: number[] = [];
    for (let i = 0; i < 3; i++) cold.push(await coldStart(binary, upstream.url));
    rows.push(["dist/lynkr (bun run build)", "cold start → first answered request", "", `${ms(median(cold), 0)} ms median of 3`, "", ""]);

    const recordUs = recordCostUs();
    const cc = recorded.body as ConstructorParameters<typeof PromptKey>[0];
    const ccText = JSON.stringify(cc);
    const keyRuns = 300;
    const perRun = (fn: () => unknown) => {
      const started = performance.now();
      for (let i = 0; i < keyRuns; i++) fn();
      return ((performance.now() - started) * 1000) / keyRuns;
    };
    const fingerprintUs = perRun(() => new PromptKey(cc, "bench", ccText).fingerprint());
    const keyUs = perRun(() => new PromptKey(cc, "bench", ccText).key());
    rows.push(["one finished request", "metrics record (in process)", "", "", `${recordUs.toFixed(2)} µs`, ""]);
    rows.push(["Claude Code request", "prompt cache fingerprint (every request; CRC-32 of the sent bytes)", "", "", `${fingerprintUs.toFixed(0)} µs`, ""]);
    rows.push(["Claude Code request", "prompt cache key (answers stored, fingerprint matches; SHA-256)", "", "", `${keyUs.toFixed(0)} µs`, ""]);

    notes.push(
      `Operations on: LYNKR_API_KEYS, per-client request and token rate limits, session/key/daily budgets, prompt cache (every request unique: lookup + store, never a hit), load shedding. Off: all of them disabled. Metrics and the request log (LOG_LEVEL=info) run in both.`,
      `Done-when: added p50 with operations on within 10% of off. Worst on/off ratio of added p50 this run, gateways in one process: ${worstRatio.toFixed(2)} (${worstRatio <= 1.1 ? "met" : "MISSED"}; the control "off" gateway differed from "off" by up to ${(worstControl * 100).toFixed(0)}%); gateways as processes, ${processesPerMode} per mode pooled: ${worstProcessRatio.toFixed(2)} (${worstProcessRatio <= 1.1 ? "met" : "MISSED"}; the per-process spread shows how far one process's luck moves a single pair's figure).`,
      "Inside one process, on/off ratios below 1 are not savings: the A/A control agrees, but gateways whose requests take different code paths land differently in the shared JIT (one added empty response header flipped which was faster), so the in-process ratio bounds the features' cost only loosely; the process comparison is the figure.",
      `Latency rows: ${latencySamples} sequential requests per target after ${latencyWarmup} warm-up, targets interleaved in a new order each round. Throughput rows: ${concurrency} concurrent clients, ${loadRounds} rounds of ${sliceSeconds} s per target, targets taking turns; the load generator shares the machine's cores with the gateways and the fake upstreams, so absolute req/s are the machine's, ratios are the finding.`,
      `Gateways are \`lynkr start\` processes from source; RSS idle ${mib(idle.off)} MiB (off) / ${mib(idle.on)} MiB (on).`,
      "Throughput with operations on is the prompt cache's worst case: every fake answer is a cacheable end_turn, so every request's SHA-256 key is computed (after its answer went out) and stored; with Claude Code most turns end in tool_use, are never stored, and a miss is decided by the fingerprint alone.",
    );
    return {
      title: "Load and the cost of operations features (auth, limits, budgets, cache, shedding)",
      columns: ["request", "measure", "upstream directly", "lynkr, operations off", "lynkr, operations on", "ratio"],
      rows,
      notes,
    };
  } finally {
    for (const g of gateways) await g.stop();
    await upstream.stop();
    await openai.stop();
  }
}
