import { RedisClient } from "bun";
import { expect, test } from "bun:test";
import type { CircuitEvent } from "../../src/shared-state/ports.ts";
import { RedisCircuitBus } from "../../src/shared-state/redis-circuits.ts";
import { redisForTests } from "../helpers/redis-server.ts";

// The circuit channel is outside input too: what does not parse is dropped, never thrown.

const redis = redisForTests();

test("other replicas' circuit events arrive; malformed ones and this replica's own are dropped", async () => {
  const received: CircuitEvent[] = [];
  const bus = new RedisCircuitBus(await redis.link());
  bus.subscribe((event) => received.push(event));

  const other = new RedisClient(redis.server().url);
  try {
    // The subscription is made in the background: wait until an event gets through.
    const warm = JSON.stringify({ origin: "replica-2", provider: "warm-up", state: "closed", at: 0 });
    const subscribed = Date.now() + 5_000;
    while (received.length === 0 && Date.now() < subscribed) {
      await other.send("PUBLISH", ["lynkr:circuits", warm]);
      await Bun.sleep(20);
    }
    await Bun.sleep(50);
    received.length = 0;
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
