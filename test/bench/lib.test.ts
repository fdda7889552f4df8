import { expect, test } from "bun:test";
import { assertReachedUpstream, latencyAgainstBaseline, spawnGateway, startFakeAnthropicUpstream, startGatewayInProcess, type BenchGateway } from "../../bench/lib.ts";

// A benchmark that sends the same body again and again must time the way to the upstream, not
// the prompt cache's replays.

const body = JSON.stringify({ model: "claude-x", max_tokens: 16, stream: true, messages: [{ role: "user", content: "hi" }] });

async function sendRepeatedly(gateway: BenchGateway, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(200);
    await res.text();
    // Long enough for an answer to be stored, were the cache on.
    await Bun.sleep(20);
  }
}

for (const [name, start] of [
  ["in this process", async (env: Record<string, string>) => startGatewayInProcess(env)],
  ["as its own process", spawnGateway],
] as const) {
  test(`a bench gateway ${name} sends every repeated request upstream unless a suite turns the cache on`, async () => {
    const upstream = startFakeAnthropicUpstream();
    const env = { MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: upstream.url };
    const gateway = await start(env);
    const cached = await start({ ...env, PROMPT_CACHE_ENABLED: "true" });
    try {
      await sendRepeatedly(gateway, 5);
      expect(upstream.requests).toBe(5);
      expect(() => assertReachedUpstream(upstream, 0, 5)).not.toThrow();

      await sendRepeatedly(cached, 5);
      expect(upstream.requests).toBe(6);
      expect(() => assertReachedUpstream(upstream, 5, 5)).toThrow("only 1 of 5 requests reached the fake upstream");
    } finally {
      await gateway.stop();
      await cached.stop();
      await upstream.stop();
    }
  });
}

test("a latency table: the baseline adds nothing, every other scenario its p50 over the baseline's", () => {
  const table = latencyAgainstBaseline(["base", [1, 2, 3]], [["slower", [4, 5, 6]]]);
  expect(table.columns).toEqual(["scenario", "p50 ms", "p95 ms", "added p50 ms"]);
  expect(table.rows).toEqual([
    ["base", "2.00", "3.00", "-"],
    ["slower", "5.00", "6.00", "3.00"],
  ]);
});
