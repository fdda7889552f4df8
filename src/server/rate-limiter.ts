import { RateLimitError } from "../anthropic/errors.ts";
import type { KeyRateLimit } from "../config/sections/operations.ts";

// Requests and tokens per minute per client, as token buckets that refill continuously (as
// Anthropic's own limits do). Requests are taken on arrival; tokens are charged when the answer's
// usage is known, so a bucket may go below zero and then refuses until it has refilled.

interface Bucket {
  level: number;
  at: number;
}

class Buckets {
  private readonly map = new Map<string, Bucket>();
  constructor(private readonly now: () => number) {}

  /** The bucket's level after refilling at `perMinute`, capped at `perMinute`. */
  level(client: string, perMinute: number): Bucket {
    const now = this.now();
    let bucket = this.map.get(client);
    if (!bucket) {
      if (this.map.size >= 10_000) this.prune(now);
      bucket = { level: perMinute, at: now };
      this.map.set(client, bucket);
    } else {
      bucket.level = Math.min(perMinute, bucket.level + ((now - bucket.at) * perMinute) / 60_000);
      bucket.at = now;
    }
    return bucket;
  }

  /** Drops buckets that have been idle long enough to be full again. */
  private prune(now: number): void {
    for (const [client, bucket] of this.map) if (now - bucket.at > 60_000) this.map.delete(client);
  }
}

let lastSecond = { at: Number.NaN, text: "" };

/** RFC 3339 to the second; formatted once per second, as every answer carries it. */
function rfc3339Seconds(ms: number): string {
  const at = Math.floor(ms / 1000);
  if (at !== lastSecond.at) lastSecond = { at, text: new Date(at * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") };
  return lastSecond.text;
}

export interface RateLimitState {
  headers: Record<string, string>;
}

export class RateLimiter {
  private readonly requests: Buckets;
  private readonly tokens: Buckets;

  constructor(
    private readonly defaults: KeyRateLimit,
    private readonly perKey: ReadonlyMap<string, KeyRateLimit>,
    private readonly now: () => number = Date.now,
  ) {
    this.requests = new Buckets(now);
    this.tokens = new Buckets(now);
  }

  get active(): boolean {
    return this.defaults.requestsPerMinute > 0 || this.defaults.tokensPerMinute > 0 || this.perKey.size > 0;
  }

  private limitsFor(client: string): KeyRateLimit {
    return this.perKey.get(client) ?? this.defaults;
  }

  /** Takes one request from the client's bucket, or throws a 429 that says when to come back. */
  admit(client: string): RateLimitState {
    const limits = this.limitsFor(client);
    const headers: Record<string, string> = {};
    let waitMs = 0;
    let which = "";
    if (limits.tokensPerMinute > 0) {
      const tokens = this.tokens.level(client, limits.tokensPerMinute);
      Object.assign(headers, this.headersFor("tokens", limits.tokensPerMinute, tokens.level));
      if (tokens.level < 1) {
        waitMs = ((1 - tokens.level) * 60_000) / limits.tokensPerMinute;
        which = `${limits.tokensPerMinute} tokens per minute`;
      }
    }
    if (limits.requestsPerMinute > 0) {
      const requests = this.requests.level(client, limits.requestsPerMinute);
      if (requests.level < 1) {
        const wait = ((1 - requests.level) * 60_000) / limits.requestsPerMinute;
        if (wait > waitMs) {
          waitMs = wait;
          which = `${limits.requestsPerMinute} requests per minute`;
        }
      } else if (waitMs === 0) {
        requests.level -= 1;
      }
      Object.assign(headers, this.headersFor("requests", limits.requestsPerMinute, requests.level));
    }
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new RateLimitError(`rate limit reached for client ${client}: ${which}; retry in ${seconds}s`, {
        headers: { ...headers, "retry-after": String(seconds) },
      });
    }
    return { headers };
  }

  /** Charges the tokens a finished answer used. */
  charge(client: string, tokens: number): void {
    const limits = this.limitsFor(client);
    if (limits.tokensPerMinute <= 0 || tokens <= 0) return;
    this.tokens.level(client, limits.tokensPerMinute).level -= tokens;
  }

  private headersFor(kind: "requests" | "tokens", limit: number, level: number): Record<string, string> {
    const remaining = Math.max(0, Math.floor(level));
    const fullInMs = ((limit - level) * 60_000) / limit;
    return {
      [`anthropic-ratelimit-${kind}-limit`]: String(limit),
      [`anthropic-ratelimit-${kind}-remaining`]: String(remaining),
      // When the bucket is full again (RFC 3339), as Anthropic reports it.
      [`anthropic-ratelimit-${kind}-reset`]: rfc3339Seconds(this.now() + Math.max(0, fullInMs)),
    };
  }
}
