import { RateLimitError } from "../anthropic/errors.ts";
import type { KeyRateLimit } from "../config/sections/operations.ts";
import { LocalBuckets } from "../shared-state/local.ts";
import type { BucketLevels, RateBuckets } from "../shared-state/ports.ts";

// Requests and tokens per minute per client, as token buckets that refill continuously (as
// Anthropic's own limits do). Requests are taken on arrival; tokens are reserved once the body is
// read (estimated input + max_tokens, as Anthropic estimates output limits) and settled to the
// answer's real usage when it is known.

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

/** A value now, or once the shared store answered: the in-process path stays synchronous. */
type Maybe<T> = T | Promise<T>;

function then<T, R>(value: Maybe<T>, next: (value: T) => R): Maybe<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

export class RateLimiter {
  constructor(
    private readonly defaults: KeyRateLimit,
    private readonly perKey: ReadonlyMap<string, KeyRateLimit>,
    private readonly now: () => number = Date.now,
    /** Where the buckets live: in process, or shared by every replica (src/shared-state/). */
    private readonly buckets: RateBuckets = new LocalBuckets(now),
  ) {}

  get active(): boolean {
    return this.defaults.requestsPerMinute > 0 || this.defaults.tokensPerMinute > 0 || this.perKey.size > 0;
  }

  private limitsOf(client: string): KeyRateLimit {
    return this.perKey.get(client) ?? this.defaults;
  }

  /**
   * Takes one request from the client's bucket and returns the anthropic-ratelimit-* headers for
   * its answer, or throws a 429 that says when to come back. Its tokens are reserved once its
   * body is read (`reserveTokens`); here an empty token bucket alone refuses it.
   */
  admit(client: string): Maybe<Record<string, string>> {
    const limits = this.limitsOf(client);
    return then(this.buckets.take(client, limits, { requests: 1, tokens: 0, minTokens: 1 }), ({ taken, levels }) => {
      const now = this.now();
      const headers = this.headers(limits, levels, now);
      if (taken) return headers;
      const { requestsPerMinute: rpm, tokensPerMinute: tpm } = limits;
      const tokenWait = tpm > 0 && levels.tokens < 1 ? ((1 - levels.tokens) * 60_000) / tpm : 0;
      const requestWait = rpm > 0 && levels.requests < 1 ? ((1 - levels.requests) * 60_000) / rpm : 0;
      throw this.refusal(client, limits, headers, tokenWait, requestWait);
    });
  }

  /**
   * Takes a request's estimated tokens (input + max_tokens, at most a full bucket) before its
   * upstream call, or throws a 429 when fewer are left: concurrent requests cannot all pass on
   * the last token. Returns what was taken, for `settle`.
   */
  reserveTokens(client: string, tokens: number): Maybe<number> {
    const limits = this.limitsOf(client);
    const tpm = limits.tokensPerMinute;
    if (tpm <= 0) return 0;
    const need = Math.min(Math.max(1, Math.ceil(tokens)), tpm);
    return then(this.buckets.take(client, limits, { requests: 0, tokens: need, minTokens: need }), ({ taken, levels }) => {
      if (taken) return need;
      throw this.refusal(client, limits, this.headers(limits, levels, this.now()), ((need - levels.tokens) * 60_000) / tpm, 0);
    });
  }

  /** Replaces a reservation by the tokens the answer really used (none when it failed). */
  settle(client: string, reserved: number, used: number): void {
    if (reserved === used) return;
    const limits = this.limitsOf(client);
    if (limits.tokensPerMinute > 0) this.buckets.give(client, limits, reserved - used);
  }

  private headers(limits: KeyRateLimit, b: BucketLevels, now: number): Record<string, string> {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = limits;
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
