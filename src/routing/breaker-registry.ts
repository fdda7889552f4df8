import { createHash } from "node:crypto";
import type { CircuitBus } from "../shared-state/ports.ts";
import { CircuitBreaker, type BreakerSettings } from "./circuit-breaker.ts";
import type { CircuitState } from "./events.ts";

// Every breaker routing keeps: one per provider, and in credential pass-through one per client
// credential and provider, so one account's 401s and 429s never stop the provider for the rest.
// Credentials are only kept as a short hash; their breakers are bounded in number (the oldest
// closed ones go first), since any client can make up new keys.

/** Breakers kept per credential, at most; past that the least recently created closed ones go. */
const maxCredentialBreakers = 1024;

export interface BreakerChange {
  provider: string;
  /** The hash of the client credential the breaker is for, in pass-through. */
  credential?: string;
  from: CircuitState;
  to: CircuitState;
}

export interface CircuitView {
  provider: string;
  /** Set for a pass-through client credential's own breaker: a short hash of it. */
  credential?: string;
  state: CircuitState;
  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  retry_in_ms: number;
}

/** Credentials whose hash is remembered, at most; past that the memo starts again. */
const maxRememberedHashes = 1024;
const rememberedHashes = new Map<string, string>();

/**
 * A short, stable, non-reversible name for a client credential. Remembered per credential: a
 * client sends the same one on every request, and a sha256 each time was a cost of every call.
 */
export function credentialHash(credential: string): string {
  let hash = rememberedHashes.get(credential);
  if (hash === undefined) {
    hash = createHash("sha256").update(credential).digest("hex").slice(0, 16);
    if (rememberedHashes.size >= maxRememberedHashes) rememberedHashes.clear();
    rememberedHashes.set(credential, hash);
  }
  return hash;
}

export class BreakerRegistry {
  private readonly shared = new Map<string, CircuitBreaker>();
  private readonly perCredential = new Map<string, { provider: string; credential: string; breaker: CircuitBreaker }>();

  /** Set while a state from another replica is taken, so it is not published back. */
  private adopting = false;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly onChange: (change: BreakerChange) => void,
    /** Replicas sharing provider circuits (src/shared-state/); credentials' breakers stay local. */
    private readonly bus?: CircuitBus,
  ) {
    bus?.subscribe(({ provider, state, at }) => {
      this.adopting = true;
      try {
        this.get(provider).adopt(state, at);
      } finally {
        this.adopting = false;
      }
    });
  }

  /** The breaker for calls to `provider`; with `credential` (a client's own, passed through), that credential's. */
  get(provider: string, credential?: string): CircuitBreaker {
    if (credential === undefined) {
      let breaker = this.shared.get(provider);
      if (!breaker) {
        const created: CircuitBreaker = new CircuitBreaker(provider, this.settings, (from, to) => {
          this.onChange({ provider, from, to });
          if (this.bus && !this.adopting && to !== "half_open") this.bus.publish({ provider, state: to, at: created.openedSince ?? Date.now() });
        });
        breaker = created;
        this.shared.set(provider, breaker);
      }
      return breaker;
    }
    const hash = credentialHash(credential);
    const key = `${provider}\u0000${hash}`;
    const found = this.perCredential.get(key);
    if (found) return found.breaker;
    this.evictIfFull();
    const breaker = new CircuitBreaker(provider, this.settings, (from, to) => this.onChange({ provider, credential: hash, from, to }));
    this.perCredential.set(key, { provider, credential: hash, breaker });
    return breaker;
  }

  /** The shared breakers of `providers` (closed when never used), then every credential's. */
  list(providers: string[]): CircuitView[] {
    const view = (breaker: CircuitBreaker | undefined) => ({ state: breaker?.state ?? "closed", retry_in_ms: breaker?.retryInMs ?? 0 });
    return [
      ...providers.map((provider) => ({ provider, ...view(this.shared.get(provider)) })),
      ...[...this.perCredential.values()].map(({ provider, credential, breaker }) => ({ provider, credential, ...view(breaker) })),
    ];
  }

  private evictIfFull(): void {
    if (this.perCredential.size < maxCredentialBreakers) return;
    const closed = [...this.perCredential].find(([, entry]) => entry.breaker.state === "closed");
    const victim = closed?.[0] ?? this.perCredential.keys().next().value;
    if (victim !== undefined) this.perCredential.delete(victim);
  }
}
