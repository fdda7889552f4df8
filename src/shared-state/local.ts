import type { BucketLevels, BucketLimits, BucketTake, BudgetLedger, BudgetLine, HoldResult, RateBuckets } from "./ports.ts";

// The state of one process: the default, and what a replica falls back to while Redis is away.

interface ClientBuckets extends BucketLevels {
  at: number;
}

/** Per-client token buckets that refill continuously (as Anthropic's own limits do). */
export class LocalBuckets implements RateBuckets {
  private readonly clients = new Map<string, ClientBuckets>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The client's buckets, refilled up to now (and capped at their limits). */
  private buckets(client: string, limits: BucketLimits): ClientBuckets {
    const now = this.now();
    const b = this.clients.get(client);
    if (b === undefined) {
      if (this.clients.size >= 10_000) this.prune(now);
      const fresh = { requests: limits.requestsPerMinute, tokens: limits.tokensPerMinute, at: now };
      this.clients.set(client, fresh);
      return fresh;
    }
    const elapsed = now - b.at;
    if (elapsed > 0) {
      const { requestsPerMinute, tokensPerMinute } = limits;
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

  take(client: string, limits: BucketLimits, take: BucketTake): { taken: boolean; levels: BucketLevels } {
    const b = this.buckets(client, limits);
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = limits;
    const taken = (rpm <= 0 || b.requests >= take.requests) && (tpm <= 0 || b.tokens >= Math.max(take.tokens, take.minTokens));
    if (taken) {
      if (rpm > 0) b.requests -= take.requests;
      if (tpm > 0) b.tokens -= take.tokens;
    }
    return { taken, levels: { requests: b.requests, tokens: b.tokens } };
  }

  give(client: string, limits: BucketLimits, tokens: number): void {
    const b = this.buckets(client, limits);
    if (limits.tokensPerMinute > 0) b.tokens = Math.min(limits.tokensPerMinute, b.tokens + tokens);
  }
}

/** Dollars held by this process's requests in flight, per budget line; spend is the usage store's. */
export class LocalLedger implements BudgetLedger {
  private readonly held = new Map<string, number>();

  hold(lines: BudgetLine[], cost: number): HoldResult {
    for (const [i, line] of lines.entries()) {
      const pending = this.held.get(line.key) ?? 0;
      if (line.localSpent + pending + cost > line.limit) return { held: false, line: i, spent: line.localSpent, pending };
    }
    for (const { key } of lines) this.held.set(key, (this.held.get(key) ?? 0) + cost);
    let settled = false;
    return {
      held: true,
      hold: {
        settle: () => {
          if (settled) return;
          settled = true;
          for (const { key } of lines) {
            const left = (this.held.get(key) ?? 0) - cost;
            // Sums of floats never come back to exactly zero; nothing this small is a hold.
            if (left > 1e-12) this.held.set(key, left);
            else this.held.delete(key);
          }
        },
      },
    };
  }
}
