// What one request did, filled in as it goes (server middleware, pipeline) and read once at its
// end by the request log and the metrics. A streamed answer ends after its handler returned:
// the pipeline holds the facts open with `hold()` and closes them when the stream is over.

/** What the optimize step did (src/optimize/index.ts OptimizeReport). */
export interface OptimizeFacts {
  profile: string;
  actions: string[];
  clearedToolResults: number;
}

/** `bypass`: the client asked for a fresh answer (x-lynkr-cache: bypass, cache-control: no-cache). */
export type CacheResult = "hit" | "miss" | "off" | "bypass";
export type Rejection = "unauthenticated" | "rate_limited" | "overloaded" | "over_budget" | "foreign_host" | "foreign_origin";

export class RequestFacts {
  status = 0;
  provider?: string;
  model?: string;
  /** The routing rule that chose the provider, and why (with any fallback on the way). */
  rule?: string;
  route?: string;
  /** Upstream calls routing made for this one client attempt (retries and fallbacks included). */
  upstreamCalls?: number;
  /** All prompt tokens: uncached, cache reads and cache writes. */
  inputTokens?: number;
  /** Of those, the ones the upstream served from its prefix cache. */
  cacheReadTokens?: number;
  outputTokens?: number;
  tokensEstimated?: boolean;
  costUsd?: number;
  savedUsd?: number;
  cache?: CacheResult;
  stream?: boolean;
  firstByteMs?: number;
  errorType?: string;
  /** The error's own words, for the log line (already free of secrets: errors never carry them). */
  errorMessage?: string;
  optimize?: OptimizeFacts;
  rejected?: Rejection;
  /** Headers and bodies for the debug log, redacted before they are written. */
  requestHeaders?: Record<string, string>;
  requestBody?: string;
  responseBody?: string;

  private held = false;
  private onDone: (() => void) | undefined;
  private doneAt: number | undefined;

  constructor(
    readonly requestId: string,
    readonly method: string,
    readonly path: string,
    /** Client identity: key name, else `ip:<address>`. */
    public client: string,
    readonly started = performance.now(),
  ) {}

  /** Milliseconds from arrival to the end of the answer (of its stream, when streamed). */
  get latencyMs(): number {
    return (this.doneAt ?? performance.now()) - this.started;
  }

  /** Keeps the facts open past the handler's return, until `close()`. */
  hold(): void {
    this.held = true;
  }

  close(status?: number): void {
    if (status !== undefined) this.status = status;
    if (!this.held) return;
    this.held = false;
    this.doneAt = performance.now();
    this.onDone?.();
  }

  /** Runs `fn` once the request is over: now, or when a held stream closes. */
  whenDone(fn: () => void): void {
    if (this.held) {
      this.onDone = fn;
      return;
    }
    this.doneAt ??= performance.now();
    fn();
  }
}
