import { type BenchSection, mib, recordedClaudeCodeRequest, spawnGateway, startFakeAnthropicUpstream } from "../lib.ts";

// Soak: the gateway as a process at half its measured capacity for a long time (30 minutes
// unless SOAK_MINUTES or --minutes=N says otherwise), its RSS sampled every 10 s. Memory that
// grows with traffic (a map never pruned, a queue never drained) shows as a slope after warm-up;
// flat means under 1 MB/min. Requests: Claude Code's recorded request and a small one, streamed,
// each in a session of its own, with budgets and rate limits on so that their bookkeeping runs.
// Not part of `bun run bench` without its name: run `bun run bench soak`.

export const onlyWhenNamed = true;

const sampleEveryMs = 10_000;
const capacitySeconds = 10;
const capacityConcurrency = 32;
const flatMbPerMinute = 1;

function minutes(): number {
  const flag = process.argv.find((a) => a.startsWith("--minutes="))?.slice("--minutes=".length);
  const value = Number(flag ?? process.env.SOAK_MINUTES ?? "30");
  if (!(value > 0)) throw new Error(`--minutes / SOAK_MINUTES: expected a positive number of minutes, got ${flag ?? process.env.SOAK_MINUTES}`);
  return value;
}

/** Least-squares slope of (minute, MB) points. */
function slope(points: { minute: number; mb: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.minute, 0) / n;
  const my = points.reduce((s, p) => s + p.mb, 0) / n;
  const num = points.reduce((s, p) => s + (p.minute - mx) * (p.mb - my), 0);
  const den = points.reduce((s, p) => s + (p.minute - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export default async function soak(): Promise<BenchSection> {
  const duration = minutes() * 60_000;
  const upstream = startFakeAnthropicUpstream("soaked");
  const gateway = await spawnGateway({
    MODEL_PROVIDER: "anthropic",
    ANTHROPIC_UPSTREAM_URL: upstream.url,
    BUDGET_DAILY_USD: "1000000",
    BUDGET_SESSION_USD: "1000",
    BUDGET_ALLOW_UNPRICED: "true",
    RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
    RATE_LIMIT_TOKENS_PER_MINUTE: "1000000000",
  });
  const recorded = await recordedClaudeCodeRequest();
  let n = 0;
  let errors = 0;
  const send = async () => {
    const i = n++;
    const big = i % 2 === 0;
    const body = big ? { ...recorded.body, max_tokens: 1000 + (i % 1000), stream: true } : { model: "claude-bench", max_tokens: 16, stream: true, messages: [{ role: "user", content: `soak ${i}` }] };
    try {
      const res = await fetch(`${gateway.url}${big ? recorded.path : "/v1/messages"}`, {
        method: "POST",
        headers: { ...(big ? recorded.headers : {}), "content-type": "application/json", "x-claude-code-session-id": `soak-${i}` },
        body: JSON.stringify(body),
      });
      await res.text();
      if (res.status !== 200) errors++;
    } catch {
      errors++;
    }
  };

  try {
    // Capacity: closed loop at high concurrency.
    const capStarted = performance.now();
    const capUntil = capStarted + capacitySeconds * 1000;
    let capDone = 0;
    await Promise.all(
      Array.from({ length: capacityConcurrency }, async () => {
        while (performance.now() < capUntil) {
          await send();
          capDone++;
        }
      }),
    );
    const capacity = capDone / ((performance.now() - capStarted) / 1000);
    const rate = capacity / 2;
    errors = 0;

    // Half capacity, open loop: one request every 1/rate s, whatever the answers do.
    const samples: { minute: number; mb: number }[] = [];
    const started = performance.now();
    const sample = () => samples.push({ minute: (performance.now() - started) / 60_000, mb: gateway.rss() / 1024 / 1024 });
    sample();
    const sampler = setInterval(sample, sampleEveryMs);
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    while (performance.now() - started < duration) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; sent < due; sent++) {
        const p = send().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Bun.sleep(5);
    }
    clearInterval(sampler);
    await Promise.all(inFlight);
    sample();

    // Warm-up: the first third, at most 5 minutes (JIT, SQLite page cache, allocator arenas).
    const warmup = Math.min(5, minutes() / 3);
    const after = samples.filter((s) => s.minute >= warmup);
    const mbPerMinute = slope(after);
    const first = after[0]?.mb ?? Number.NaN;
    const last = after.at(-1)?.mb ?? Number.NaN;
    return {
      title: `Soak: ${minutes()} min at half capacity, RSS every ${sampleEveryMs / 1000} s`,
      columns: ["measure", "value"],
      rows: [
        ["capacity (closed loop, 32 concurrent)", `${capacity.toFixed(0)} req/s`],
        ["soak rate (half)", `${rate.toFixed(0)} req/s`],
        ["requests sent during soak", sent],
        ["non-200 answers / failures", errors],
        ["RSS samples after warm-up", after.length],
        [`RSS after ${warmup.toFixed(1)} min warm-up → end`, `${first.toFixed(1)} → ${last.toFixed(1)} MB`],
        ["peak RSS (MiB)", mib(Math.max(...samples.map((s) => s.mb)) * 1024 * 1024)],
        ["RSS slope after warm-up", `${mbPerMinute.toFixed(3)} MB/min`],
        ["flat (< 1 MB/min)", Math.abs(mbPerMinute) < flatMbPerMinute ? "yes" : "NO"],
      ],
      notes: ["Half capacity is measured first (10 s closed loop); every request has a session of its own, so the database grows on disk while RSS should not."],
    };
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}
