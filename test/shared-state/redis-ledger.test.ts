import { expect, test } from "bun:test";
import type { BudgetLine } from "../../src/shared-state/ports.ts";
import { RedisLedger } from "../../src/shared-state/redis-ledger.ts";
import { redisForTests } from "../helpers/redis-server.ts";

// Budget holds on a real redis-server: exact across replicas, and the holds of a replica that
// died (it never settles) lapse by themselves.

const redis = redisForTests();

const day = (localSpent = 0): BudgetLine[] => [{ key: "day\u0000\u00002026-12-06", limit: 1, localSpent, keepSeconds: 60 }];

test("a hold whose replica died lapses; until then it counts for every replica", async () => {
  const dying = new RedisLedger(await redis.link(), 300);
  const alive = new RedisLedger(await redis.link());
  expect((await dying.hold(day(), 0.75)).held).toBe(true);
  const refused = await alive.hold(day(), 0.5);
  expect(refused).toEqual({ held: false, line: 0, spent: 0, pending: 0.75 });
  // The dying replica never settles; its hold lapses after 300 ms.
  const until = Date.now() + 5_000;
  let held = false;
  while (!held && Date.now() < until) {
    held = (await alive.hold(day(), 0.5)).held;
    if (!held) await Bun.sleep(50);
  }
  expect(held).toBe(true);
});

test("settling adds the real cost to the shared spend; a replica's own larger spend still counts", async () => {
  const ledger = new RedisLedger(await redis.link());
  const lines: BudgetLine[] = [{ key: "client\u0000alice\u00002026-12-06", limit: 1, localSpent: 0, keepSeconds: 60 }];
  const first = await ledger.hold(lines, 0.5);
  if (!first.held) throw new Error("the first hold should fit");
  first.hold.settle(0.25);
  // Settling is sent without waiting for it: poll with a request that can never fit.
  const until = Date.now() + 5_000;
  let refused = await ledger.hold(lines, 0.99);
  while (!refused.held && refused.pending > 0 && Date.now() < until) refused = await ledger.hold(lines, 0.99);
  expect(refused).toEqual({ held: false, line: 0, spent: 0.25, pending: 0 });
  // This replica's SQLite says 0.9 was spent (before it had replicas): that counts.
  expect(await ledger.hold([{ ...(lines[0] as BudgetLine), localSpent: 0.9 }], 0.2)).toMatchObject({ held: false, spent: 0.9 });
});
