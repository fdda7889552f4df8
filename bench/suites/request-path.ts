import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary } from "../../test/helpers/binary.ts";
import { chatChunk, openAiSse } from "../../test/helpers/fake-upstream.ts";
import { spawnLynkr, type LynkrProcess } from "../../test/helpers/lynkr-process.ts";
import { run } from "../../test/helpers/run.ts";
import {
  assertReachedUpstream,
  type BenchSection,
  type FakeUpstream,
  median,
  recordedClaudeCodeRequest,
  startFakeAnthropicUpstream,
  startFakeOpenAiUpstream,
} from "../lib.ts";

// The request path as users run it: the built binary (dist/lynkr) as its own process, driven by
// wrk (keep-alive, its own process), against the same fake upstream called directly in the same
// run. The request is the recorded Claude Code 2.1.328 request (48 KB, 12 tools, streamed),
// translated to OpenAI Chat, with the prompt cache off: every request must reach the upstream
// (asserted). Also: RSS under 238 KB bodies at c=128, idle RSS, cold start to the first answer,
// streaming time to first byte, and Anthropic-wire pass-through. Figures beside issue 12's.
// `bun run bench request-path --pass-through` runs only the pass-through rows (with their own
// direct baseline), for iterating on that path.

const seconds = 5;
const clockTicks = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in these.

interface Wrk {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

function toMs(value: string): number {
  const m = value.match(/^([\d.]+)(us|ms|s)$/);
  if (!m) throw new Error(`unreadable wrk latency ${value}`);
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : n * 1000;
}

/** A wrk script that POSTs `bodyFile` with `headers`. */
function wrkScript(dir: string, name: string, headers: Record<string, string>, body: string): string {
  const bodyFile = join(dir, `${name}.json`);
  writeFileSync(bodyFile, body);
  const lines = ['wrk.method = "POST"', `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`, "wrk.body = f:read(\"*all\")", "f:close()"];
  for (const [k, v] of Object.entries({ ...headers, "content-type": "application/json" })) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  const script = join(dir, `${name}.lua`);
  writeFileSync(script, `${lines.join("\n")}\n`);
  return script;
}

async function wrk(url: string, script: string, connections: number, duration = seconds): Promise<Wrk> {
  const { code, stdout, stderr } = await run(["wrk", "-t1", `-c${connections}`, `-d${duration}s`, "--timeout", "30s", "--latency", "-s", script, url]);
  if (code !== 0) throw new Error(`wrk failed (exit ${code}): ${stdout}${stderr}`);
  if (/Non-2xx|Socket errors/.test(stdout)) throw new Error(`wrk saw failures against ${url}:\n${stdout}`);
  const pick = (re: RegExp) => stdout.match(re)?.[1] ?? "";
  const requests = Number(pick(/(\d+) requests in/));
  return { requests, rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)), p50Ms: toMs(pick(/^\s+50%\s+(\S+)/m)), p99Ms: toMs(pick(/^\s+99%\s+(\S+)/m)) };
}

function procStat(pid: number): { cpuTicks: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return { cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

function rssOf(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m)?.[1];
  return Number(kb) * 1024;
}

/** wrk against a gateway, with its CPU time per request and its peak RSS meanwhile. */
async function measured(lynkr: LynkrProcess, path: string, script: string, connections: number): Promise<Wrk & { cpuUs: number; peakRss: number }> {
  let peakRss = rssOf(lynkr.pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(lynkr.pid));
  }, 20);
  const before = procStat(lynkr.pid).cpuTicks;
  let result: Wrk;
  try {
    result = await wrk(lynkr.url + path, script, connections);
  } finally {
    clearInterval(sampler);
  }
  const cpuTicks = procStat(lynkr.pid).cpuTicks - before;
  peakRss = Math.max(peakRss, rssOf(lynkr.pid));
  return { ...result, cpuUs: ((cpuTicks / clockTicks) * 1e6) / result.requests, peakRss };
}

/** Time to the first byte of a streamed answer, sequentially, `samples` times. */
async function ttfb(url: string, headers: Record<string, string>, body: string, samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const res = await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
    const reader = res.body?.getReader();
    if (!reader) throw new Error("no body");
    await reader.read();
    if (i >= 20) times.push(performance.now() - started);
    while (!(await reader.read()).done);
  }
  return median(times);
}

async function coldStart(binary: string, upstream: FakeUpstream): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "lynkr-cold-"));
  const started = performance.now();
  const lynkr = await spawnLynkr([binary], { HOME: dir, SESSION_DB_PATH: join(dir, "lynkr.db"), ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-bench", LOG_LEVEL: "info" }, dir);
  try {
    const res = await fetch(`${lynkr.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' });
    await res.text();
    if (res.status !== 200) throw new Error(`cold start answered ${res.status}`);
    return performance.now() - started;
  } finally {
    await lynkr.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function gateway(binary: string, env: Record<string, string>): Promise<LynkrProcess & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "lynkr-path-"));
  const lynkr = await spawnLynkr([binary], { HOME: dir, SESSION_DB_PATH: join(dir, "lynkr.db"), PROMPT_CACHE_ENABLED: "false", LOG_LEVEL: "info", ...env }, dir);
  return { ...lynkr, dir };
}

const mb = (bytes: number) => bytes / (1024 * 1024);

interface Row {
  figure: string;
  today: number;
  target: number;
  measured: number;
  unit: string;
  /** Higher is better (throughput); else lower is. */
  higher?: boolean;
}

const passThroughOnly = process.argv.includes("--pass-through");

/** The pass-through rows alone: the gateway and the same fake Anthropic upstream called directly, both at c=32. */
async function passThroughSection(binary: string, recorded: Awaited<ReturnType<typeof recordedClaudeCodeRequest>>, body: string): Promise<BenchSection> {
  const anthropic = startFakeAnthropicUpstream("Done.");
  const dir = mkdtempSync(join(tmpdir(), "lynkr-wrk-"));
  const passThrough = await gateway(binary, { MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: anthropic.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-bench" });
  try {
    const cc = wrkScript(dir, "cc", recorded.headers, body);
    await wrk(passThrough.url + recorded.path, cc, 4, 2);
    const before = anthropic.requests;
    const direct32 = await wrk(anthropic.url + recorded.path, cc, 32);
    const pass32 = await measured(passThrough, recorded.path, cc, 32);
    assertReachedUpstream(anthropic, before, direct32.requests + pass32.requests);
    const rows: [string, number, number, number, string, boolean][] = [
      ["Anthropic-wire pass-through c=32: throughput", 1993, 4000, pass32.rps, "req/s", true],
      ["Anthropic-wire pass-through c=32: CPU", 549, 250, pass32.cpuUs, "µs/req", false],
    ];
    return {
      title: `Request path (issue 12), pass-through only: ${process.env.LYNKR_BENCH_BINARY ?? "dist/lynkr"} under wrk, beside a direct mock baseline`,
      columns: ["figure", "today", "target", "measured", "", "direct baseline"],
      rows: rows.map(([figure, today, target, value, unit, higher], i) => [
        figure,
        `${today} ${unit}`,
        `${higher ? "≥" : "≤"} ${target} ${unit}`,
        `${value.toFixed(0)} ${unit}`,
        (higher ? value >= target : value <= target) ? "MET" : "MISSED",
        i === 0 ? `${direct32.rps.toFixed(0)} req/s` : "",
      ]),
      notes: [`wrk -t1 keep-alive, ${seconds} s per run, c=32; ${pass32.requests} requests through lynkr, all reached the fake upstream (asserted); p50 ${pass32.p50Ms.toFixed(3)} ms, p99 ${pass32.p99Ms.toFixed(3)} ms (direct p50 ${direct32.p50Ms.toFixed(3)} ms).`],
    };
  } finally {
    await passThrough.stop();
    await anthropic.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function requestPath(): Promise<BenchSection> {
  if (passThroughOnly) {
    const recorded = await recordedClaudeCodeRequest();
    return passThroughSection(process.env.LYNKR_BENCH_BINARY ?? (await buildBinary()), recorded, JSON.stringify(recorded.body));
  }
  const recorded = await recordedClaudeCodeRequest();
  const body = JSON.stringify(recorded.body);
  // 238 KB: the recorded request with a long tool result, as a session late in its life sends.
  const big = JSON.stringify({ ...recorded.body, messages: [...(recorded.body.messages as unknown[]), { role: "user", content: "x".repeat(238 * 1024 - body.length - 40) }] });
  const answer = openAiSse([chatChunk({ role: "assistant", content: "" }), chatChunk({ content: "Done." }), chatChunk({}, "stop"), chatChunk({}, null, { choices: [], usage: { prompt_tokens: 11000, completion_tokens: 3, total_tokens: 11003 } })]).join("");
  const openai = startFakeOpenAiUpstream(answer);
  const anthropic = startFakeAnthropicUpstream("Done.");
  const dir = mkdtempSync(join(tmpdir(), "lynkr-wrk-"));
  // LYNKR_BENCH_BINARY: another build (say, main's) measured by the same harness, for comparison.
  const binary = process.env.LYNKR_BENCH_BINARY ?? (await buildBinary());
  const translated = await gateway(binary, { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-bench", OPENAI_ENDPOINT: `${openai.url}/v1/chat/completions` });
  const passThrough = await gateway(binary, { MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: anthropic.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-bench" });
  try {
    const cc = wrkScript(dir, "cc", recorded.headers, body);
    const bigScript = wrkScript(dir, "big", recorded.headers, big);
    await Bun.sleep(500);
    const idleRss = rssOf(translated.pid);

    // Warm both paths (JIT, connection pools) before timing anything.
    await wrk(translated.url + recorded.path, cc, 4, 2);
    await wrk(passThrough.url + recorded.path, cc, 4, 2);

    const before = openai.requests;
    const direct1 = await wrk(`${openai.url}/v1/chat/completions`, cc, 1);
    const lynkr1 = await measured(translated, recorded.path, cc, 1);
    const direct32 = await wrk(`${openai.url}/v1/chat/completions`, cc, 32);
    const lynkr32 = await measured(translated, recorded.path, cc, 32);
    const bigLoad = await measured(translated, recorded.path, bigScript, 128);
    assertReachedUpstream(openai, before, direct1.requests + lynkr1.requests + direct32.requests + lynkr32.requests + bigLoad.requests);

    const directTtfb = await ttfb(`${openai.url}/v1/chat/completions`, recorded.headers, body, 220);
    const lynkrTtfb = await ttfb(translated.url + recorded.path, recorded.headers, body, 220);

    const beforeAnthropic = anthropic.requests;
    const directAnthropic32 = await wrk(anthropic.url + recorded.path, cc, 32);
    const pass32 = await measured(passThrough, recorded.path, cc, 32);
    assertReachedUpstream(anthropic, beforeAnthropic, directAnthropic32.requests + pass32.requests);

    const cold: number[] = [];
    for (let i = 0; i < 3; i++) cold.push(await coldStart(binary, anthropic));

    const rows: Row[] = [
      { figure: "added p50, c=1, cc request", today: 0.7, target: 0.3, measured: lynkr1.p50Ms - direct1.p50Ms, unit: "ms" },
      // A difference of two tails is noise on a shared machine: lynkr's own p99, the direct one beside it.
      { figure: "p99, c=1", today: 5.2, target: 2, measured: lynkr1.p99Ms, unit: "ms" },
      { figure: "throughput c=32, cc request", today: 1613, target: 3000, measured: lynkr32.rps, unit: "req/s", higher: true },
      { figure: "CPU per request (c=32)", today: 684, target: 300, measured: lynkr32.cpuUs, unit: "µs" },
      { figure: "peak RSS, 238 KB bodies at c=128", today: 934, target: 250, measured: mb(bigLoad.peakRss), unit: "MB" },
      { figure: "idle RSS", today: 58, target: 45, measured: mb(idleRss), unit: "MB" },
      { figure: "cold start to first answer", today: 102, target: 80, measured: median(cold), unit: "ms" },
      { figure: "streaming TTFT added", today: 1.7, target: 0.5, measured: lynkrTtfb - directTtfb, unit: "ms" },
      { figure: "Anthropic-wire pass-through c=32: throughput", today: 1993, target: 4000, measured: pass32.rps, unit: "req/s", higher: true },
      { figure: "Anthropic-wire pass-through c=32: CPU", today: 549, target: 250, measured: pass32.cpuUs, unit: "µs/req" },
    ];
    const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
    return {
      title: `Request path (issue 12): ${process.env.LYNKR_BENCH_BINARY ?? "dist/lynkr"} under wrk, beside a direct mock baseline`,
      columns: ["figure", "today", "target", "measured", "", "direct baseline"],
      rows: rows.map((r, i) => {
        const met = r.higher ? r.measured >= r.target : r.measured <= r.target;
        const baseline = [
          `p50 ${direct1.p50Ms.toFixed(3)} ms`,
          `p99 ${direct1.p99Ms.toFixed(3)} ms`,
          `${direct32.rps.toFixed(0)} req/s`,
          "",
          "",
          "",
          "",
          `TTFB ${directTtfb.toFixed(3)} ms`,
          `${directAnthropic32.rps.toFixed(0)} req/s`,
          "",
        ][i] ?? "";
        return [r.figure, `${fmt(r.today)} ${r.unit}`, `${r.higher ? "≥" : "≤"} ${fmt(r.target)} ${r.unit}`, `${fmt(r.measured)} ${r.unit}`, met ? "MET" : "MISSED", baseline];
      }),
      notes: [
        `wrk -t1 keep-alive, ${seconds} s per run; the gateway is the built binary with PROMPT_CACHE_ENABLED=false; every request reached the fake upstream (asserted: ${openai.requests - before} OpenAI, ${pass32.requests} Anthropic).`,
        `requests timed: c=1 ${lynkr1.requests}, c=32 ${lynkr32.requests}, 238 KB c=128 ${bigLoad.requests} (${bigLoad.rps.toFixed(0)} req/s, CPU ${bigLoad.cpuUs.toFixed(0)} µs/req); lynkr p50 at c=1 ${lynkr1.p50Ms.toFixed(3)} ms, p99 ${lynkr1.p99Ms.toFixed(3)} ms.`,
        "CPU per request: the gateway process's user+system time over the run (/proc/<pid>/stat) divided by the requests it answered; RSS sampled every 20 ms from /proc/<pid>/status.",
        "The machine is shared (2 cores): wrk, the fake upstream and the gateway compete for them, so figures vary between runs by ±15%.",
      ],
    };
  } finally {
    await translated.stop();
    await passThrough.stop();
    await openai.stop();
    await anthropic.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
