import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeUpstream } from "../helpers/fake-upstream.ts";
import { openAiEnv, pollLive, startBuiltGateway, startFakeOpenAi, type BuiltGateway } from "./harness.ts";

// Issue 14, finding 1's second half: one request never holds the event loop more than a few ms
// while it is counted. ~1 MB of text built to be slow to count (short pieces of mixed classes:
// no run long enough to be estimated, every piece merged by BPE) goes to count_tokens and, routed
// by a longContext rule (which counts), to /v1/messages, while /health/live is polled every 5 ms
// from its own process: the slowest live answer is the longest hold.

let upstream: FakeUpstream;
let gateway: BuiltGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAi();
  const dir = mkdtempSync(join(tmpdir(), "lynkr-slices-"));
  const routing = join(dir, "routing.json");
  await Bun.write(routing, JSON.stringify({ router: { longContext: "openai,gpt-long-context", longContextThreshold: 1000 } }));
  gateway = await startBuiltGateway({ ...openAiEnv(upstream), LYNKR_CONFIG: routing }, dir);
});
afterAll(async () => {
  expect(await gateway.stop()).toBe(0);
  await upstream.stop();
});

const slowPieces = ["=-+*&^%$#@!~<>?/|=-+*&^%$#@!~<>?a", "\n=", "1=", "é\n", "x ", `${"龘".repeat(32)} `, `${"😀".repeat(32)}a`];
const hostileText = (chars: number) => {
  let text = "";
  for (let i = 0; text.length < chars; i++) text += slowPieces[i % slowPieces.length]!.repeat(64);
  return text;
};
const ask = (content: string) => JSON.stringify({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content }] });
const post = (path: string, body: string) => fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

test("counting 1 MB of text built to be slow (count_tokens, and a request a longContext rule routes) never holds /health/live", async () => {
  const body = ask(hostileText(1_000_000));
  // Each request with its own text: a remembered count would be no test of the counting.
  const bodies = Array.from({ length: 3 }, (_, i) => body.replace("claude-x", `claude-x-${i}`).replace('"content":"', `"content":"${i} `));
  const live = pollLive(gateway.url, 5);
  await Bun.sleep(250);
  for (const [i, each] of bodies.entries()) {
    const counted = await post("/v1/messages/count_tokens", each);
    expect(counted.status).toBe(200);
    expect(((await counted.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(100_000);
    const routed = await post("/v1/messages", each.replace('"content":"', `"content":"routed ${i} `));
    expect(routed.status).toBe(200);
    await routed.text();
  }
  const report = await live.stop();
  console.log(`/health/live while counting 3 x 1 MB of hostile text: worst ${report.worstMs.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms, ${report.probes} probes`);
  expect(report.failures).toBe(0);
  expect(upstream.received.some((r) => JSON.stringify(r.json).includes("gpt-long-context"))).toBe(true);
  // Generous for a machine shared with other suites (a probe waits for a CPU too): a slice is
  // ~3 ms and parsing a 1 MB body ~20 ms; counted in one go, this held the loop 2.8 s.
  expect(report.worstMs).toBeLessThan(200);
});
