import { logger } from "../observability/logger.ts";
import { LocalLedger } from "./local.ts";
import type { BudgetHold, BudgetLedger, BudgetLine, HoldResult } from "./ports.ts";
import type { RedisLink } from "./redis-link.ts";

// Budget holds and spend every replica sees. Per budget line, a hash of the holds of requests in
// flight (each "cost:expires-at", so the holds of a replica that died lapse by themselves) and a
// spent counter. One Lua script checks spent + held + this hold ≤ limit on every line and holds
// on all of them, atomically; settling drops the hold and adds the real cost.
//
// Spent is the larger of the shared counter and this replica's own usage store (what a lone
// gateway spent before it had replicas still counts). While Redis is away a replica holds
// against its own store and holds; what it spends meanwhile is added to the shared counters
// once Redis is back ("reconcile": the shared spend then again includes every answer charged).

/** How long a hold lasts if its request never settles (its replica died): longer than any turn. */
const defaultHoldTtlMs = 15 * 60_000;

const holdScript = `
local cost, id, ttl = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lines = #KEYS / 2
for i = 1, lines do
  local holds = KEYS[2 * i]
  local pending = 0
  local all = redis.call('HGETALL', holds)
  for j = 1, #all, 2 do
    local amount, expires = string.match(all[j + 1], '^([^:]+):(.+)$')
    if tonumber(expires) <= now then redis.call('HDEL', holds, all[j]) else pending = pending + tonumber(amount) end
  end
  local spent = math.max(tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0'), tonumber(ARGV[3 + 2 * i]))
  if spent + pending + cost > tonumber(ARGV[2 + 2 * i]) then return {0, i - 1, tostring(spent), tostring(pending)} end
end
for i = 1, lines do
  redis.call('HSET', KEYS[2 * i], id, tostring(cost) .. ':' .. tostring(now + ttl))
  redis.call('PEXPIRE', KEYS[2 * i], ttl)
end
return {1}
`;

const settleScript = `
local cost = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  if ARGV[1] ~= '' then redis.call('HDEL', KEYS[2 * i], ARGV[1]) end
  if cost > 0 then redis.call('INCRBYFLOAT', KEYS[2 * i - 1], ARGV[2]) end
  redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[2 + i])
end
return 1
`;

function keysOf(lines: BudgetLine[]): string[] {
  return lines.flatMap(({ key }) => {
    const name = key.split("\u0000").map(encodeURIComponent).join(":");
    return [`lynkr:budget:${name}:spent`, `lynkr:budget:${name}:holds`];
  });
}

export class RedisLedger implements BudgetLedger {
  private readonly local = new LocalLedger();
  /** Costs charged while Redis was away, summed per set of lines, to add once it is back. */
  private unsynced = new Map<string, { lines: BudgetLine[]; cost: number }>();

  constructor(
    private readonly link: RedisLink,
    private readonly holdTtlMs = defaultHoldTtlMs,
  ) {
    link.whenUp(() => void this.reconcile());
  }

  hold(lines: BudgetLine[], cost: number): HoldResult | Promise<HoldResult> {
    if (!this.link.up) return this.holdLocally(lines, cost);
    const id = crypto.randomUUID();
    const args = [String(cost), id, String(this.holdTtlMs), ...lines.flatMap((line) => [String(line.limit), String(line.localSpent)])];
    return this.link.eval(holdScript, keysOf(lines), args).then(
      (reply): HoldResult => {
        if (!Array.isArray(reply)) throw new Error("unexpected reply from the budget script");
        if (Number(reply[0]) === 1) return { held: true, hold: this.sharedHold(lines, id) };
        return { held: false, line: Number(reply[1]), spent: Number(reply[2]), pending: Number(reply[3]) };
      },
      () => this.holdLocally(lines, cost),
    );
  }

  private sharedHold(lines: BudgetLine[], id: string): BudgetHold {
    let settled = false;
    return {
      settle: (costUsd) => {
        if (settled) return;
        settled = true;
        this.settleShared(lines, id, costUsd).catch(() => {
          // The hold lapses by itself; the cost is added once Redis is back.
          this.keepForLater(lines, costUsd);
        });
      },
    };
  }

  private holdLocally(lines: BudgetLine[], cost: number): HoldResult {
    const result = this.local.hold(lines, cost);
    if (!result.held) return result;
    return {
      held: true,
      hold: {
        settle: (costUsd) => {
          result.hold.settle(costUsd);
          this.keepForLater(lines, costUsd);
        },
      },
    };
  }

  private settleShared(lines: BudgetLine[], id: string, cost: number): Promise<unknown> {
    return this.link.eval(settleScript, keysOf(lines), [id, String(cost), ...lines.map((line) => String(line.keepSeconds))]);
  }

  private keepForLater(lines: BudgetLine[], cost: number): void {
    if (cost <= 0) return;
    const key = lines.map((line) => line.key).join("\u0001");
    const kept = this.unsynced.get(key);
    if (kept) kept.cost += cost;
    else this.unsynced.set(key, { lines, cost });
  }

  private async reconcile(): Promise<void> {
    const pending = [...this.unsynced.values()];
    this.unsynced = new Map();
    for (const [i, { lines, cost }] of pending.entries()) {
      try {
        await this.settleShared(lines, "", cost);
      } catch (error) {
        for (const left of pending.slice(i)) this.keepForLater(left.lines, left.cost);
        logger.warn("shared state: could not add spend charged while redis was away; trying again on the next reconnect", { error: String(error) });
        return;
      }
    }
  }
}
