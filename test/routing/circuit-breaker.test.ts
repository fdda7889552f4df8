import { expect, test } from "bun:test";
import { AnthropicError, ApiError, InvalidRequestError } from "../../src/anthropic/errors.ts";
import { CircuitBreaker } from "../../src/routing/circuit-breaker.ts";
import type { CircuitState } from "../../src/routing/events.ts";
import { classifyFailure, retryAfterMs, retryDelayMs } from "../../src/routing/failure.ts";

function breaker() {
  let now = 1_000;
  const changes: string[] = [];
  const b = new CircuitBreaker("p", { failureThreshold: 3, successThreshold: 2, timeoutMs: 100 }, (from: CircuitState, to: CircuitState) => changes.push(`${from}>${to}`), () => now);
  return { b, changes, advance: (ms: number) => (now += ms) };
}

test("failures in a row open the circuit; a success in between starts the count again", () => {
  const { b, changes } = breaker();
  b.failure();
  b.failure();
  b.success();
  b.failure();
  b.failure();
  expect(b.state).toBe("closed");
  b.failure();
  expect(b.state).toBe("open");
  expect(b.tryAcquire()).toBe(false);
  expect(changes).toEqual(["closed>open"]);
});

test("half-open lets one probe through at a time; enough successes close it", () => {
  const { b, changes, advance } = breaker();
  for (let i = 0; i < 3; i++) b.failure();
  expect(b.retryInMs).toBe(100);
  advance(100);
  expect(b.tryAcquire()).toBe(true);
  expect(b.state).toBe("half_open");
  expect(b.tryAcquire()).toBe(false);
  b.success();
  expect(b.state).toBe("half_open");
  expect(b.tryAcquire()).toBe(true);
  b.success();
  expect(b.state).toBe("closed");
  expect(changes).toEqual(["closed>open", "open>half_open", "half_open>closed"]);
});

test("a failed probe reopens the circuit for a full timeout; a released probe frees the slot", () => {
  const { b, advance } = breaker();
  for (let i = 0; i < 3; i++) b.failure();
  advance(150);
  expect(b.tryAcquire()).toBe(true);
  b.release();
  expect(b.tryAcquire()).toBe(true);
  b.failure();
  expect(b.state).toBe("open");
  advance(99);
  expect(b.tryAcquire()).toBe(false);
  advance(1);
  expect(b.tryAcquire()).toBe(true);
});

test("retry-after as seconds, milliseconds or an HTTP date", () => {
  expect(retryAfterMs({ "retry-after": "2" })).toBe(2000);
  expect(retryAfterMs({ "retry-after": "0.5" })).toBe(500);
  expect(retryAfterMs({ "retry-after-ms": "250", "retry-after": "9" })).toBe(250);
  expect(retryAfterMs({ "retry-after": new Date(10_000).toUTCString() }, 7_000)).toBe(3000);
  expect(retryAfterMs({ "retry-after": "soon" })).toBeUndefined();
});

test("full-jitter backoff stays under initial·2^attempt and the cap; retry-after wins, unless longer than the cap", () => {
  const settings = { maxRetries: 3, initialDelayMs: 100, maxDelayMs: 1000 };
  const failure = classifyFailure(new ApiError("boom", { status: 503 }));
  expect(retryDelayMs(0, failure, settings, () => 0.999)).toBe(99);
  expect(retryDelayMs(2, failure, settings, () => 0.5)).toBe(200);
  expect(retryDelayMs(8, failure, settings, () => 0.999)).toBe(999);
  expect(retryDelayMs(0, failure, settings, () => 0)).toBe(0);
  const limited = classifyFailure(new AnthropicError("rate_limit_error", "slow", { headers: { "retry-after": "0.3" } }));
  expect(retryDelayMs(0, limited, settings)).toBe(300);
  const tooLong = classifyFailure(new AnthropicError("rate_limit_error", "slow", { headers: { "retry-after": "5" } }));
  expect(retryDelayMs(0, tooLong, settings)).toBeUndefined();
});

test("what is retried and what fails over: 408/409/429/5xx and network errors, never another 4xx", () => {
  const kinds = [408, 409, 429, 500, 502, 503, 529, 400, 401, 403, 404, 413].map((status) => {
    const f = classifyFailure(new AnthropicError(status === 429 ? "rate_limit_error" : "api_error", "x", { status }));
    return `${status}:${f.retryable ? "retry" : "no"}`;
  });
  expect(kinds).toEqual(["408:retry", "409:retry", "429:retry", "500:retry", "502:retry", "503:retry", "529:retry", "400:no", "401:no", "403:no", "404:no", "413:no"]);
  expect(classifyFailure(new InvalidRequestError("bad")).providerFault).toBe(false);
  // An exhausted quota's 429 says not to retry: the same provider is not called again, another may be.
  const quota = classifyFailure(new AnthropicError("rate_limit_error", "quota", { headers: { "x-should-retry": "false" } }));
  expect([quota.retryable, quota.providerFault]).toEqual([false, true]);
  expect(classifyFailure(new ApiError("unreachable", { status: 502, cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) })).reason).toBe("connection_refused");
});

test("an exception inside lynkr is not the provider's fault; a socket error that escaped fetch's wrapping is", () => {
  const bug = classifyFailure(new TypeError("Cannot read properties of undefined (reading 'type')"));
  expect(bug).toEqual({ reason: "internal_error", retryable: false, providerFault: false });
  const reset = classifyFailure(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
  expect([reset.reason, reset.retryable, reset.providerFault]).toEqual(["network_error", true, true]);
  const closed = classifyFailure(new Error("fetch failed", { cause: Object.assign(new Error("closed"), { code: "ConnectionClosed" }) }));
  expect(closed.reason).toBe("network_error");
});

test("panic calls on an open circuit: a success counts as a probe's, a failure sends it to the back of the panic order", () => {
  const { b, changes, advance } = breaker();
  for (let i = 0; i < 3; i++) b.failure();
  expect(b.openedSince).toBe(1_000);
  const other = breaker().b;
  for (let i = 0; i < 3; i++) other.failure();
  // Opened in the same millisecond, still in order.
  expect(b.openingOrder).toBeLessThan(other.openingOrder);
  advance(10);
  b.failure();
  expect(b.state).toBe("open");
  expect(b.openedSince).toBe(1_010);
  expect(b.openingOrder).toBeGreaterThan(other.openingOrder);
  b.success();
  expect(b.state).toBe("half_open");
  b.success();
  expect(b.state).toBe("closed");
  expect(b.openedSince).toBeUndefined();
  expect(changes).toEqual(["closed>open", "open>half_open", "half_open>closed"]);
});
