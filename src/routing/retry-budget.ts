// Envoy's retry budget, per provider: retries in flight may be at most `percent` of the requests
// in flight to that provider, and never fewer than `min` (so a quiet gateway still retries).
// When a provider struggles, every request failing at once cannot turn into N times the load.

export interface RetryBudgetSettings {
  /** Retries in flight as a percentage of requests in flight. */
  percent: number;
  /** Retries in flight always allowed, whatever the traffic. */
  min: number;
}

/** `fn` the first time the returned function is called, nothing after: a slot is given back once. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

export class RetryBudget {
  private active = 0;
  private retrying = 0;

  constructor(private readonly settings: RetryBudgetSettings) {}

  /** A request starts using this provider; the returned function says it is done (idempotent). */
  begin(): () => void {
    this.active++;
    return once(() => this.active--);
  }

  /** Claims a retry if the budget has room; the returned function gives it back, else undefined. */
  tryRetry(): (() => void) | undefined {
    const allowed = Math.max(this.settings.min, Math.floor((this.active * this.settings.percent) / 100));
    if (this.retrying >= allowed) return undefined;
    this.retrying++;
    return once(() => this.retrying--);
  }

  /** Requests and retries in flight, for tests and metrics. */
  get inFlight(): { requests: number; retries: number } {
    return { requests: this.active, retries: this.retrying };
  }
}
