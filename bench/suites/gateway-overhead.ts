import {
  assertReachedUpstream,
  type BenchSection,
  type FakeUpstream,
  mib,
  ms,
  percentile,
  recordedClaudeCodeRequest,
  type RecordedRequest,
  spawnGateway,
  startFakeAnthropicUpstream,
} from "../lib.ts";

// What lynkr adds on the Anthropic-wire path: a Claude-Code-sized request (the recorded
// 2.1.328 request, ~50 KB) and a small one, streaming and not, one at a time, through `lynkr
// start` (its own process) and straight to the same fake upstream, alternating so both see the
// same machine load. Also the stream's time to first byte and the gateway's RSS. Aim: p50 added
// under 1 ms.

const samples = 300;
const warmup = 40;

interface Case {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  stream: boolean;
}

function cases(recorded: RecordedRequest): Case[] {
  const headers = { ...recorded.headers, "x-api-key": "bench-key" };
  const path = recorded.path;
  const small = { model: "claude-bench", max_tokens: 64, messages: [{ role: "user", content: "hi" }] };
  const smallHeaders = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "bench-key" };
  return [
    { name: `Claude Code request (${(JSON.stringify(recorded.body).length / 1024).toFixed(0)} KB), stream`, path, headers, body: JSON.stringify({ ...recorded.body, stream: true }), stream: true },
    { name: "Claude Code request, non-stream", path, headers, body: JSON.stringify({ ...recorded.body, stream: false }), stream: false },
    { name: "small request, stream", path: "/v1/messages", headers: smallHeaders, body: JSON.stringify({ ...small, stream: true }), stream: true },
    { name: "small request, non-stream", path: "/v1/messages", headers: smallHeaders, body: JSON.stringify(small), stream: false },
  ];
}

/** Time until the whole answer has arrived. */
async function call(base: string, c: Case): Promise<number> {
  const started = performance.now();
  const res = await fetch(base + c.path, { method: "POST", headers: c.headers, body: c.body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${c.name}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return performance.now() - started;
}

/** Time until the first body bytes of a streaming answer arrive. */
async function firstByte(base: string, c: Case): Promise<number> {
  const started = performance.now();
  const res = await fetch(base + c.path, { method: "POST", headers: c.headers, body: c.body });
  const reader = res.body!.getReader();
  await reader.read();
  const elapsed = performance.now() - started;
  while (!(await reader.read()).done);
  return elapsed;
}

/** Direct and through-lynkr samples, interleaved so drifting machine load hits both alike. */
async function paired(gatewayUrl: string, upstream: FakeUpstream, measure: (base: string) => Promise<number>) {
  const before = upstream.requests;
  for (let i = 0; i < warmup; i++) {
    await measure(upstream.url);
    await measure(gatewayUrl);
  }
  const direct: number[] = [];
  const through: number[] = [];
  for (let i = 0; i < samples; i++) {
    direct.push(await measure(upstream.url));
    through.push(await measure(gatewayUrl));
  }
  assertReachedUpstream(upstream, before, 2 * (warmup + samples));
  return { direct, through };
}

export default async function gatewayOverhead(): Promise<BenchSection> {
  const recorded = await recordedClaudeCodeRequest();
  const upstream = startFakeAnthropicUpstream();
  const gateway = await spawnGateway({ MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: upstream.url });
  try {
    await Bun.sleep(200);
    const idleRss = gateway.rss();
    const rows: (string | number)[][] = [];
    let worstAddedP50 = 0;
    for (const c of cases(recorded)) {
      const result = await paired(gateway.url, upstream, (base) => call(base, c));
      const d50 = percentile(result.direct, 50);
      const t50 = percentile(result.through, 50);
      const added50 = t50 - d50;
      const added99 = percentile(result.through, 99) - percentile(result.direct, 99);
      worstAddedP50 = Math.max(worstAddedP50, added50);
      rows.push([c.name, "full response", ms(d50), ms(t50), ms(added50), ms(added99), (t50 / d50).toFixed(2)]);
    }
    const streamCases = cases(recorded).filter((c) => c.stream);
    for (const c of streamCases) {
      const result = await paired(gateway.url, upstream, (base) => firstByte(base, c));
      const d50 = percentile(result.direct, 50);
      const t50 = percentile(result.through, 50);
      rows.push([c.name, "first byte", ms(d50), ms(t50), ms(t50 - d50), ms(percentile(result.through, 99) - percentile(result.direct, 99)), (t50 / d50).toFixed(2)]);
    }
    const afterRss = gateway.rss();
    return {
      title: "Gateway overhead on the Anthropic-wire path (concurrency 1)",
      columns: ["request", "measured until", "direct p50 ms", "via lynkr p50 ms", "added p50 ms", "added p99 ms", "ratio p50"],
      rows,
      notes: [
        `${samples} sequential requests per row after ${warmup} warm-up ones, direct and via lynkr alternating; fake upstream on loopback answering at once; every turn written to SQLite as in production; prompt cache off (every request reaches the upstream).`,
        `Aim: added p50 < 1 ms. Worst added p50 this run: ${ms(worstAddedP50)} ms (${worstAddedP50 < 1 ? "met" : "MISSED"}).`,
        `Gateway RSS (\`lynkr start\` as its own process): ${mib(idleRss)} MiB idle, ${mib(afterRss)} MiB after ${upstream.requests} upstream requests.`,
        "added p99 is the difference of the two p99s (tail noise of a shared machine included).",
      ],
    };
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}
