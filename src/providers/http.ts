import { ApiError, AnthropicError } from "../anthropic/errors.ts";

// The one place that calls upstreams over HTTP: timeouts, client aborts and network failures
// become typed errors that name the upstream, never a bare "fetch failed".

export interface UpstreamRequest {
  /** Who is called, for messages: e.g. "anthropic (https://api.anthropic.com)". */
  upstream: string;
  url: string;
  init: RequestInit;
  timeoutMs: number;
  /** The client's; none for a call several clients share, which only its timeout bounds. */
  signal?: AbortSignal;
}

export class ClientAbortedError extends AnthropicError {
  constructor() {
    super("api_error", "client closed the request", { status: 499 });
  }
}

/**
 * Calls the upstream; `timeoutMs` bounds the wait for its response headers only. The body is
 * bounded by readBody's idle limit instead: a long generation may stream for many minutes.
 */
export async function fetchUpstream(req: UpstreamRequest): Promise<Response> {
  if (req.signal?.aborted) throw new ClientAbortedError();
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), req.timeoutMs);
  try {
    return await fetch(req.url, { ...req.init, signal: req.signal ? AbortSignal.any([req.signal, timeout.signal]) : timeout.signal });
  } catch (error) {
    if (req.signal?.aborted) throw new ClientAbortedError();
    if (timeout.signal.aborted) {
      throw new ApiError(`upstream ${req.upstream} did not answer within ${req.timeoutMs} ms`, {
        status: 504,
        cause: error,
      });
    }
    throw new ApiError(`upstream ${req.upstream} is unreachable: ${describeNetworkError(error)}`, {
      status: 502,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

function describeNetworkError(error: unknown): string {
  if (error && typeof error === "object") {
    const code = (error as { code?: unknown }).code;
    const message = (error as { message?: unknown }).message;
    if (typeof code === "string" && code !== "") return code === "ConnectionRefused" || code === "ECONNREFUSED" ? "connection refused" : code;
    if (typeof message === "string") return message;
  }
  return String(error);
}

/**
 * Reads a response body, failing with a clear error if the upstream stalls longer than
 * `idleMs` between chunks or the connection breaks mid-stream.
 */
export async function* readBody(
  response: Response,
  upstream: string,
  idleMs: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  if (!response.body) return;
  const reader = response.body.getReader();
  // One timer for the whole body, re-armed as each read starts and ignored between reads (the
  // time a paused client takes is not the upstream's silence): a timer, a promise and a race per
  // chunk cost more than reading the chunk, on streams of hundreds of events.
  let reading = false;
  let stalled = false;
  const timer = setTimeout(() => {
    if (!reading) return;
    stalled = true;
    reader.cancel().catch(() => {});
  }, idleMs);
  const stall = () => new ApiError(`upstream ${upstream} sent nothing for ${idleMs} ms mid-stream`, { status: 504 });
  try {
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      reading = true;
      timer.refresh();
      try {
        result = await reader.read();
      } catch (error) {
        if (signal.aborted) throw new ClientAbortedError();
        if (stalled) throw stall();
        throw new ApiError(`upstream ${upstream} connection lost mid-stream: ${describeNetworkError(error)}`, {
          cause: error,
        });
      } finally {
        reading = false;
      }
      // A stall cancels the read, which then ends as if the body had.
      if (stalled) throw signal.aborted ? new ClientAbortedError() : stall();
      if (result.done) return;
      yield result.value;
    }
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}
