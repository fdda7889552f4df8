import { RateLimitError } from "../anthropic/errors.ts";
import type { KeyRateLimit } from "../config/sections/operations.ts";

// Requests and tokens per minute per client, as token buckets that refill continuously (as
// Anthropic's own limits do). Requests are taken on arrival; tokens are charged when the answer's
// usage is known, so a bucket may go below zero and then refuses until it has refilled.

/** One client's two buckets, refilled together; one lookup per request. */
interface ClientBuckets {
  limits: KeyRateLimit;
  requests: number;
  tokens: number;
  at: number;
}

let lastSecond = { at: Number.NaN, text: "" };

/** RFC 3339 to the second; formatted once per second, as every answer carries it. */
function rfc3339Seconds(ms: number): string {
  const at = Math.floor(ms / 1000);
  if (at !== lastSecond.at) lastSecond = { at, text: new Date(at * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") };
  return lastSecond.text;
}

/** When a bucket at `level` of `limit` per minute is full again, as Anthropic reports it. */
function fullAt(now: number, limit: number, level: number): string {
  return rfc3339Seconds(now + Math.max(0, ((limit - level) * 60_000) / limit));
}

export class RateLimiter {
  private readonly clients = new Map<string, ClientBuckets>();

  constructor(
    private readonly defaults: KeyRateLimit,
    private readonly perKey: ReadonlyMap<string, KeyRateLimit>,
    private readonly now: () => number = Date.now,
  ) {}

  get active(): boolean {
    return this.defaults.requestsPerMinute > 0 || this.defaults.tokensPerMinute > 0 || this.perKey.size > 0;
  }

  /** The client's buckets, refilled up to `now` (and capped at their limits). */
  private buckets(client: string, now: number): ClientBuckets {
    const b = this.clients.get(client);
    if (b === undefined) {
      if (this.clients.size >= 10_000) this.prune(now);
      const limits = this.perKey.get(client) ?? this.defaults;
      const fresh = { limits, requests: limits.requestsPerMinute, tokens: limits.tokensPerMinute, at: now };
      this.clients.set(client, fresh);
      return fresh;
    }
    const elapsed = now - b.at;
    if (elapsed > 0) {
      const { requestsPerMinute, tokensPerMinute } = b.limits;
      b.requests = Math.min(requestsPerMinute, b.requests + (elapsed * requestsPerMinute) / 60_000);
      b.tokens = Math.min(tokensPerMinute, b.tokens + (elapsed * tokensPerMinute) / 60_000);
      b.at = now;
    }
    return b;
  }

  /** Drops buckets that have been idle long enough to be full again. */
  private prune(now: number): void {
    for (const [client, b] of this.clients) if (now - b.at > 60_000) this.clients.delete(client);
  }

  /**
   * Takes one request from the client's bucket and returns the anthropic-ratelimit-* headers for
   * its answer, or throws a 429 that says when to come back.
   */
  admit(client: string): Record<string, string> {
    const now = this.now();
    const b = this.buckets(client, now);
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = b.limits;
    const tokenWait = tpm > 0 && b.tokens < 1 ? ((1 - b.tokens) * 60_000) / tpm : 0;
    const requestWait = rpm > 0 && b.requests < 1 ? ((1 - b.requests) * 60_000) / rpm : 0;
    if (tokenWait === 0 && requestWait === 0 && rpm > 0) b.requests -= 1;
    const headers: Record<string, string> = {};
    if (tpm > 0) {
      headers["anthropic-ratelimit-tokens-limit"] = String(tpm);
      headers["anthropic-ratelimit-tokens-remaining"] = String(Math.max(0, Math.floor(b.tokens)));
      headers["anthropic-ratelimit-tokens-reset"] = fullAt(now, tpm, b.tokens);
    }
    if (rpm > 0) {
      headers["anthropic-ratelimit-requests-limit"] = String(rpm);
      headers["anthropic-ratelimit-requests-remaining"] = String(Math.max(0, Math.floor(b.requests)));
      headers["anthropic-ratelimit-requests-reset"] = fullAt(now, rpm, b.requests);
    }
    if (tokenWait > 0 || requestWait > 0) {
      const which = requestWait > tokenWait ? `${rpm} requests per minute` : `${tpm} tokens per minute`;
      const seconds = Math.max(1, Math.ceil(Math.max(tokenWait, requestWait) / 1000));
      throw new RateLimitError(`rate limit reached for client ${client}: ${which}; retry in ${seconds}s`, {
        headers: { ...headers, "retry-after": String(seconds) },
      });
    }
    return headers;
  }

  /** Charges the tokens a finished answer used. */
  charge(client: string, tokens: number): void {
    if (tokens <= 0) return;
    const b = this.buckets(client, this.now());
    if (b.limits.tokensPerMinute > 0) b.tokens -= tokens;
  }
}
