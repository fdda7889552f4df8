import { RedisClient } from "bun";
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { CircuitEvent } from "../../src/shared-state/ports.ts";
import { RedisCircuitBus } from "../../src/shared-state/redis-circuits.ts";
import { RedisLink } from "../../src/shared-state/redis-link.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";
import { configureLogger } from "../../src/observability/logger.ts";

// The circuit channel is outside input too: what does not parse is dropped, never thrown.

let redis: RedisServer;
const links: RedisLink[] = [];

beforeAll(async () => {
  configureLogger("silent", "json");
  redis = await startRedisServer();
});

afterAll(async () => {
  for (const link of links) link.stop();
  await redis.close();
});

test("other replicas' circuit events arrive; malformed ones and this replica's own are dropped", async () => {
  const link = new RedisLink(redis.url);
  links.push(link);
  const received: CircuitEvent[] = [];
  const bus = new RedisCircuitBus(link);
  bus.subscribe((event) => received.push(event));
  link.start();
  const until = Date.now() + 10_000;
  while (!link.up && Date.now() < until) await Bun.sleep(20);
  expect(link.up).toBe(true);

  const other = new RedisClient(redis.url);
  try {
    for (const junk of ["not json", "{}", JSON.stringify({ origin: "x", provider: "p", state: "half_open", at: 1 }), "x".repeat(100_000)]) {
      await other.send("PUBLISH", ["lynkr:circuits", junk]);
    }
    bus.publish({ provider: "own", state: "open", at: 1 });
    await other.send("PUBLISH", ["lynkr:circuits", JSON.stringify({ origin: "replica-2", provider: "anthropic", state: "open", at: 42 })]);
    const deadline = Date.now() + 5_000;
    while (received.length === 0 && Date.now() < deadline) await Bun.sleep(20);
    await Bun.sleep(100);
    expect(received).toEqual([{ provider: "anthropic", state: "open", at: 42 }]);
  } finally {
    other.close();
  }
});
