import { expect, test } from "bun:test";
import type { Message } from "../../src/anthropic/schema.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Outcomes } from "../../src/pipeline/outcome.ts";
import { createPipeline } from "../../src/pipeline/run-turn.ts";
import { buildRouteProviders } from "../../src/routing/providers.ts";
import { createRouter } from "../../src/routing/router.ts";
import { openDatabase } from "../../src/store/db.ts";
import { Budgets } from "../../src/usage/budgets.ts";
import { defaultPrices, Prices } from "../../src/usage/prices.ts";
import { RateLimiter } from "../../src/usage/rate-limiter.ts";
import { UsageStore } from "../../src/store/usage.ts";
import { createServerToolServices } from "../../src/agent/services.ts";
import { PromptKey, promptScope } from "../../src/cache/key.ts";
import { Registry } from "../../src/observability/metrics/registry.ts";
import { PromptCache } from "../../src/cache/prompt-cache.ts";
import { SqliteEntries } from "../../src/cache/sqlite-entries.ts";
import { Optimizer } from "../../src/optimize/index.ts";
import { tempDir } from "../helpers/gateway.ts";
import { contextFor, request } from "./turn-fixture.ts";

function pipeline() {
  const home = tempDir();
  const config = loadConfig({ env: { HOME: home, ANTHROPIC_UPSTREAM_URL: "http://127.0.0.1:9", API_RETRY_MAX_RETRIES: "0" }, cwd: home });
  const db = openDatabase(":memory:");
  const cache = new PromptCache({ durable: new SqliteEntries(db, 10) }, 60_000, 10);
  const usage = new UsageStore(db);
  return {
    cache,
    pipeline: createPipeline({
      router: createRouter(config, buildRouteProviders(config, undefined)),
      outcomes: new Outcomes(),
      budgets: new Budgets(config, usage),
      limiter: new RateLimiter({ requestsPerMinute: 0, tokensPerMinute: 0 }, new Map()),
      usage,
      prices: new Prices(defaultPrices),
      memory: undefined,
      cache,
      cacheSettings: { perClient: false, provider: "anthropic", model: "" },
      serverTools: createServerToolServices(config, new Registry()),
      optimizer: new Optimizer({ profile: "auto", disabled: [], smallWindowTokens: 16_000, clearTrigger: 0.85, clearTarget: 0.5, keepToolResults: 1, maxSessions: 100 }),
    }),
  };
}

test("the steps run in the declared order: session, memory, route, budget, optimize, cache, call", () => {
  expect(pipeline().pipeline.steps.map((s) => s.name)).toEqual(["session", "memory", "route", "budget", "optimize", "cache", "call"]);
});

test("a step that answers ends the turn: a cached answer never reaches the call", async () => {
  const { pipeline: p, cache } = pipeline();
  const body = request();
  const text = JSON.stringify(body);
  // A first turn misses (and would call an upstream that is not there): its key is what the answer is stored under.
  const miss = await p.runTurn({ body, text }, contextFor()).catch((e: unknown) => e);
  expect(miss).toBeInstanceOf(Error);
  const message: Message = { id: "m", type: "message", role: "assistant", model: "claude-x", content: [{ type: "text", text: "from the cache" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
  const scope = promptScope({ client: "", provider: "anthropic", model: "", headers: new Headers(), search: "" });
  cache.set(new PromptKey(body, scope, text), message, undefined);
  const result = await p.runTurn({ body, text }, contextFor());
  expect(result.cached).toBe(true);
  expect((await result.message()).content).toEqual(message.content);
});
