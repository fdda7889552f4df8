import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { costOf, defaultPrices, Prices } from "../../src/usage/prices.ts";
import { chunkedResponse, readWire, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";

const prices = new Prices(defaultPrices);

test("models match the longest table entry, through vendor and platform prefixes and date suffixes", () => {
  expect(prices.lookup("anthropic", "claude-sonnet-4-5-20250929").entry).toBe("claude-sonnet-4");
  expect(prices.lookup("openrouter", "anthropic/claude-opus-4-1").entry).toBe("claude-opus-4-1");
  expect(prices.lookup("databricks", "databricks-claude-sonnet-4").entry).toBe("claude-sonnet-4");
  expect(prices.lookup("openai", "gpt-4o-mini-2024-07-18").entry).toBe("gpt-4o-mini");
  expect(prices.lookup("openai", "gpt-4o").entry).toBe("gpt-4o");
  expect(prices.lookup("openai", "some-unknown-model").price).toBeUndefined();
  // Claude Code 2.1.328's default model, and its 1M-context alias, beside the Opus 5 entry.
  expect(prices.lookup("anthropic", "claude-opus-5-5").price).toEqual({ input: 4, output: 20, cacheRead: 0.2, cacheWrite: 5 });
  expect(prices.lookup("anthropic", "claude-opus-5-5[1m]").entry).toBe("claude-opus-5-5");
  expect(prices.lookup("anthropic", "claude-opus-5").entry).toBe("claude-opus-5");
  expect(prices.lookup("anthropic", "claude-sonnet-5-5").entry).toBe("claude-sonnet-5");
  // Local runtimes cost nothing, whatever the model.
  expect(prices.lookup("ollama", "qwen2.5-coder:7b").price).toEqual({ input: 0, output: 0 });
});

test("cost counts input, output, cache reads and cache writes at their own prices", () => {
  const price = prices.lookup("anthropic", "claude-sonnet-4-5").price;
  // $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
  expect(costOf(price, { input_tokens: 1_000_000, output_tokens: 100_000, cache_read_input_tokens: 1_000_000, cache_creation_input_tokens: 1_000_000 })).toBeCloseTo(3 + 1.5 + 0.3 + 3.75, 9);
  expect(costOf(undefined, { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 })).toBeUndefined();
});

let upstream: FakeUpstream;
beforeAll(async () => {
  const recorded = await readWire("upstream/anthropic/stream-text.sse");
  upstream = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
});
afterAll(() => upstream.stop());

test("prices in the LYNKR_CONFIG file override the built-in table", async () => {
  const dir = tempDir();
  const configPath = join(dir, "config.json");
  await Bun.write(configPath, JSON.stringify({ prices: { "claude-3-opus": { input: 1, output: 2 } } }));
  const dbPath = join(dir, "lynkr.db");
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_CONFIG: configPath, SESSION_DB_PATH: dbPath });
  try {
    await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-3-opus-20240229", max_tokens: 16, messages: [{ role: "user", content: "count" }] }),
    }).then((r) => r.text());
    await Bun.sleep(20);
  } finally {
    await gateway.shutdown();
  }
  const db = new Database(dbPath, { readonly: true });
  // 15 input tokens at $1 and 13 output tokens at $2 per million.
  expect(db.query<{ cost_usd: number }, []>("SELECT cost_usd FROM usage").get()?.cost_usd).toBeCloseTo(41e-6, 12);
  db.close();
});

test("a malformed price stops start-up, naming the file and the key", async () => {
  const dir = tempDir();
  const configPath = join(dir, "config.json");
  await Bun.write(configPath, JSON.stringify({ prices: { "my-model": { input: "cheap", output: 1 } } }));
  expect(() => startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LYNKR_CONFIG: configPath })).toThrow(/prices\.my-model\.input/);
});
