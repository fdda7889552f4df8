import type { CircuitState } from "./events.ts";

// One breaker per provider (per client credential in pass-through). CLOSED counts consecutive
// failures; at the threshold it OPENs and calls fail over to another provider at once, without
// touching the network. After the timeout one call at a time probes (HALF_OPEN); enough
// successes close it, any failure opens it again. When every provider left is open, routing
// still calls one of them (panic routing): what that call tells counts like a probe's answer.

export interface BreakerSettings {
  failureThreshold: number;
  successThreshold: number;
  timeoutMs: number;
}

// Counts circuit openings across all breakers: the order panic routing follows, exact even when
// two circuits open within the same millisecond.
let openings = 0;

export class CircuitBreaker {
  private current: CircuitState = "closed";
  private failures = 0;
  private successes = 0;
  private openedAt = 0;
  private opening = 0;
  private probing = false;

  constructor(
    readonly provider: string,
    private readonly settings: BreakerSettings,
    private readonly onChange: (from: CircuitState, to: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  get retryInMs(): number {
    return this.current === "open" ? Math.max(0, this.openedAt + this.settings.timeoutMs - this.now()) : 0;
  }

  /** When the circuit opened (epoch ms), while it is open or half-open. */
  get openedSince(): number | undefined {
    return this.current === "closed" ? undefined : this.openedAt;
  }

  /** Which opening this circuit's last one was, across all breakers: panic routing calls the lowest. */
  get openingOrder(): number {
    return this.opening;
  }

  /** Whether a call may go out now; in HALF_OPEN this claims the single probe. */
  tryAcquire(): boolean {
    if (this.current === "open") {
      if (this.now() - this.openedAt < this.settings.timeoutMs) return false;
      this.move("half_open");
    }
    if (this.current === "half_open") {
      if (this.probing) return false;
      this.probing = true;
    }
    return true;
  }

  /** Gives back a probe that ended without telling anything (the client went away). */
  release(): void {
    this.probing = false;
  }

  success(): void {
    this.failures = 0;
    // A panic call got through: the provider answers again, as a probe would have shown.
    if (this.current === "open") this.move("half_open");
    if (this.current !== "half_open") return;
    this.probing = false;
    this.successes++;
    if (this.successes >= this.settings.successThreshold) this.move("closed");
  }

  failure(): void {
    this.probing = false;
    // A failed probe, or a failed panic call (which sends this provider to the back of the panic order).
    if (this.current !== "closed") {
      this.open();
      return;
    }
    this.failures++;
    if (this.current === "closed" && this.failures >= this.settings.failureThreshold) this.open();
  }

  /**
   * Takes a state another replica's breaker for the same provider moved to: open from `at` (its
   * timeout counts from there), or closed. Calls onChange like any move.
   */
  adopt(state: "open" | "closed", at: number): void {
    if (state === "closed") {
      this.probing = false;
      this.move("closed");
      return;
    }
    if (this.current === "open" && this.openedAt >= at) return;
    this.probing = false;
    this.openedAt = at;
    this.opening = ++openings;
    this.move("open");
  }

  private open(): void {
    this.openedAt = this.now();
    this.opening = ++openings;
    this.move("open");
  }

  private move(to: CircuitState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.failures = 0;
    this.successes = 0;
    this.onChange(from, to);
  }
}
