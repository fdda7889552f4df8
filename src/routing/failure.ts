import { AnthropicError } from "../anthropic/errors.ts";
import type { FailureReason } from "./events.ts";

// Sorts an upstream failure (before the first byte) into what routing may do about it.

export interface Failure {
  reason: FailureReason;
  /** Worth calling the same provider again (408/409/429/5xx, network errors). */
  retryable: boolean;
  /** The provider failed, not the request: counts against its breaker, may fail over. */
  providerFault: boolean;
  /** Another provider may still take the request, though this one is not at fault. */
  passOver?: boolean;
  status?: number;
  /** Milliseconds the upstream asked us to wait (retry-after / retry-after-ms). */
  retryAfterMs?: number;
}

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** retry-after-ms, else retry-after as seconds or an HTTP date. */
export function retryAfterMs(headers: Record<string, string>, now = Date.now()): number | undefined {
  const ms = headers["retry-after-ms"];
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers["retry-after"]?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function classifyFailure(error: unknown): Failure {
  const failure = classify(error);
  // An upstream that says "do not retry" (e.g. an exhausted quota's 429) is not called again;
  // another provider may still take the request.
  if (failure.retryable && error instanceof AnthropicError && error.headers["x-should-retry"] === "false") {
    return { ...failure, retryable: false };
  }
  return failure;
}

// What fetch and sockets report (Bun and Node names): a network failure that escaped fetchUpstream's wrapping.
const networkCodes = /^(E[A-Z]+|UND_ERR_\w+|Connection\w+|FailedToOpenSocket)$/;

function classify(error: unknown): Failure {
  if (!(error instanceof AnthropicError)) {
    // Anything else was thrown inside lynkr (a translation, a bug), not by the upstream: the same
    // would happen with any provider, so it neither counts against this one nor is retried.
    const code = causeCode(error);
    if (code !== undefined && networkCodes.test(code)) return { reason: "network_error", retryable: true, providerFault: true };
    return { reason: "internal_error", retryable: false, providerFault: false };
  }
  const status = error.status;
  const retryAfter = retryAfterMs(error.headers);
  const withStatus = { status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
  // fetchUpstream reports an unreachable upstream as 502 and its own timeout as 504, with the cause attached.
  const code = causeCode(error.cause);
  if (code === "ConnectionRefused" || code === "ECONNREFUSED") return { reason: "connection_refused", retryable: true, providerFault: true, ...withStatus };
  if (status === 504 || status === 408) return { reason: "timeout", retryable: true, providerFault: true, ...withStatus };
  if (status === 429) return { reason: "rate_limited", retryable: true, providerFault: true, ...withStatus };
  if (error.cause !== undefined && status === 502) return { reason: "network_error", retryable: true, providerFault: true, ...withStatus };
  if (status >= 500 || status === 409) return { reason: "server_error", retryable: true, providerFault: true, ...withStatus };
  // Claude Code's compaction trigger; a provider with a larger window may still take the prompt.
  if (/^prompt is too long/.test(error.message)) return { reason: "context_too_long", retryable: false, providerFault: false, passOver: true, ...withStatus };
  if (status === 404) return { reason: "not_found", retryable: false, providerFault: false, passOver: true, ...withStatus };
  // Any other 4xx is about the request (bad input, bad key, unknown model): no retry can fix it.
  return { reason: "request_error", retryable: false, providerFault: false, ...withStatus };
}

export interface RetrySettings {
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Full-jitter exponential backoff (a random wait up to initial·2^attempt, capped), or exactly the
 * upstream's retry-after. Undefined when the upstream asks for longer than the cap: better to go
 * to the next provider (or hand the retry-after to the client) than to hold the request.
 */
export function retryDelayMs(attempt: number, failure: Failure, settings: RetrySettings, random = Math.random): number | undefined {
  if (failure.retryAfterMs !== undefined) {
    return failure.retryAfterMs <= settings.maxDelayMs ? failure.retryAfterMs : undefined;
  }
  const ceiling = Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}
