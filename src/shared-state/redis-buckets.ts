import { LocalBuckets } from "./local.ts";
import type { BucketLevels, BucketLimits, BucketTake, RateBuckets } from "./ports.ts";
import type { RedisLink } from "./redis-link.ts";

// Rate-limit buckets every replica takes from: one hash per client, refilled and taken in one
// Lua script (atomic on the server), on the server's clock so replicas' clocks do not matter.
// While Redis is away a replica takes from its own buckets (each then allows up to the whole
// limit); back on Redis, the shared buckets count again. Nothing is carried over: a bucket
// refills within a minute, so the shared one is right again a minute later at the latest.

const script = `
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local wantR, wantT, minT, give = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'r', 't', 'at')
local r, t, at = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
if r == nil or t == nil or at == nil then r, t, at = rpm, tpm, now end
local elapsed = now - at
if elapsed > 0 then
  r = math.min(rpm, r + elapsed * rpm / 60000)
  t = math.min(tpm, t + elapsed * tpm / 60000)
  at = now
end
local ok = 1
if give ~= 0 then
  if tpm > 0 then t = math.min(tpm, t + give) end
else
  if rpm > 0 and r < wantR then ok = 0 end
  if tpm > 0 and t < math.max(wantT, minT) then ok = 0 end
  if ok == 1 then
    if rpm > 0 then r = r - wantR end
    if tpm > 0 then t = t - wantT end
  end
end
redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(t), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], 120000)
return {ok, tostring(r), tostring(t)}
`;

export class RedisBuckets implements RateBuckets {
  private readonly local = new LocalBuckets();

  constructor(private readonly link: RedisLink) {}

  take(client: string, limits: BucketLimits, take: BucketTake): { taken: boolean; levels: BucketLevels } | Promise<{ taken: boolean; levels: BucketLevels }> {
    if (!this.link.up) return this.local.take(client, limits, take);
    return this.run(client, limits, [take.requests, take.tokens, take.minTokens, 0]).then(
      ([ok, requests, tokens]) => ({ taken: ok === 1, levels: { requests, tokens } }),
      () => this.local.take(client, limits, take),
    );
  }

  give(client: string, limits: BucketLimits, tokens: number): void {
    if (tokens === 0) return;
    if (!this.link.up) return this.local.give(client, limits, tokens);
    this.run(client, limits, [0, 0, 0, tokens]).catch(() => this.local.give(client, limits, tokens));
  }

  private async run(client: string, limits: BucketLimits, args: number[]): Promise<[number, number, number]> {
    const reply = await this.link.eval(script, [`lynkr:ratelimit:${client}`], [limits.requestsPerMinute, limits.tokensPerMinute, ...args].map(String));
    if (!Array.isArray(reply) || reply.length !== 3) throw new Error("unexpected reply from the rate-limit script");
    return [Number(reply[0]), Number(reply[1]), Number(reply[2])];
  }
}
