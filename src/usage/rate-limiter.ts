import { RateLimitError } from "../anthropic/errors.ts";
import type { KeyRateLimit } from "../config/sections/operations.ts";

// Requests and tokens per minute per client, as token buckets that refill continuously (as
// Anthropic's own limits do). Requests are taken on arrival; tokens are reserved once the body is
// read (estimated input + max_tokens, as Anthropic estimates output limits) and settled to the
// answer's real usage when it is known.

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
   * its answer, or throws a 429 that says when to come back. Its tokens are reserved once its
   * body is read (`reserveTokens`); here an empty token bucket alone refuses it.
   */
  admit(client: string): Record<string, string> {
    const now = this.now();
    const b = this.buckets(client, now);
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = b.limits;
    const tokenWait = tpm > 0 && b.tokens < 1 ? ((1 - b.tokens) * 60_000) / tpm : 0;
    const requestWait = rpm > 0 && b.requests < 1 ? ((1 - b.requests) * 60_000) / rpm : 0;
    if (tokenWait === 0 && requestWait === 0 && rpm > 0) b.requests -= 1;
    const headers = this.headers(b, now);
    if (tokenWait > 0 || requestWait > 0) throw this.refusal(client, b.limits, headers, tokenWait, requestWait);
    return headers;
  }

  /**
   * Takes a request's estimated tokens (input + max_tokens, at most a full bucket) before its
   * upstream call, or throws a 429 when fewer are left: concurrent requests cannot all pass on
   * the last token. Returns what was taken, for `settle`.
   */
  reserveTokens(client: string, tokens: number): number {
    const now = this.now();
    const b = this.buckets(client, now);
    const tpm = b.limits.tokensPerMinute;
    if (tpm <= 0) return 0;
    const need = Math.min(Math.max(1, Math.ceil(tokens)), tpm);
    if (b.tokens < need) throw this.refusal(client, b.limits, this.headers(b, now), ((need - b.tokens) * 60_000) / tpm, 0);
    b.tokens -= need;
    return need;
  }

  /** Replaces a reservation by the tokens the answer really used (none when it failed). */
  settle(client: string, reserved: number, used: number): void {
    if (reserved === used) return;
    const b = this.buckets(client, this.now());
    const tpm = b.limits.tokensPerMinute;
    if (tpm > 0) b.tokens = Math.min(tpm, b.tokens + reserved - used);
  }

  private headers(b: ClientBuckets, now: number): Record<string, string> {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = b.limits;
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
    return headers;
  }

  private refusal(client: string, limits: KeyRateLimit, headers: Record<string, string>, tokenWait: number, requestWait: number): RateLimitError {
    const which = requestWait > tokenWait ? `${limits.requestsPerMinute} requests per minute` : `${limits.tokensPerMinute} tokens per minute`;
    const seconds = Math.max(1, Math.ceil(Math.max(tokenWait, requestWait) / 1000));
    return new RateLimitError(`rate limit reached for client ${client}: ${which}; retry in ${seconds}s`, {
      headers: { ...headers, "retry-after": String(seconds) },
    });
  }
}
