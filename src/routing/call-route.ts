import { AnthropicError, ApiError } from "../anthropic/errors.ts";
import type { MessagesRequest, StreamEvent } from "../anthropic/schema.ts";
import { logger } from "../observability/logger.ts";
import { ClientAbortedError } from "../providers/http.ts";
import type { CallContext, Provider, UpstreamStream } from "../providers/types.ts";
import type { CircuitBreaker } from "./circuit-breaker.ts";
import { classifyFailure, retryDelayMs, type Failure } from "./failure.ts";
import type { Route, Router, Target } from "./router.ts";

/**
 * What routing did for one request: which provider answered (or was routed to, when none did),
 * the model asked of it, the rule, why (the decision and any fallback on the way) and how many
 * upstream calls it took, retries and fallbacks included. Facts, not headers: the server renders
 * them as x-lynkr-*.
 */
export interface RouteFacts {
  provider: Pick<Provider, "name" | "kind">;
  /** The model that was asked for: the rule's, else the provider's own (undefined: the client's). */
  model: string | undefined;
  rule: Route["rule"];
  why: string;
  attempts: number;
}

export interface Answer {
  route: RouteFacts;
  upstream: UpstreamStream;
  events: AsyncIterator<StreamEvent>;
  first: StreamEvent;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ClientAbortedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ClientAbortedError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A route no provider answered: counted against where the request was routed. */
export function unansweredRoute(router: Pick<Router, "primary">, route: Route, why = route.reason, attempts = 0): RouteFacts {
  const routed = route.chain[0];
  const provider = routed?.provider ?? router.primary;
  return { provider, model: routed?.model ?? provider.model, rule: route.rule, why, attempts };
}

/** A failure of a routed call: it carries how it was routed, like an answer does. */
export class RoutedError extends AnthropicError {
  constructor(
    error: AnthropicError,
    readonly route: RouteFacts,
  ) {
    super(error.type, error.message, { status: error.status, headers: error.headers, cause: error.cause });
  }
}

/**
 * After the first byte nothing can fail over, but a broken stream still counts against the
 * provider; `done` runs once when the stream is over, however it ends.
 */
function watched(events: AsyncIterator<StreamEvent>, breaker: CircuitBreaker, signal: AbortSignal, done: () => void): AsyncIterator<StreamEvent> {
  return {
    async next() {
      try {
        const result = await events.next();
        if (result.done) done();
        return result;
      } catch (error) {
        done();
        if (!signal.aborted && classifyFailure(error).providerFault) breaker.failure();
        throw error;
      }
    },
    return: (value?: unknown) => {
      done();
      return events.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
    },
  };
}

/**
 * Anthropic's SDKs, and so Claude Code, send x-stainless-retry-count on every attempt (0 on the
 * first): such a client retries 429s, 5xx and network errors itself, with its own backoff and
 * the upstream's retry-after. lynkr calling the same provider again underneath would multiply
 * every one of its attempts (3 CLI attempts became 5 upstream calls, then an open circuit).
 */
function retriesByItself(ctx: CallContext): boolean {
  return ctx.clientHeaders.has("x-stainless-retry-count");
}

type Miss = Pick<Failure, "reason" | "status">;

/** A provider skipped for its open circuit: panic routing may still call it. */
interface Skipped {
  target: Target;
  breaker: CircuitBreaker;
}

/**
 * Calls the providers of `route` (the router's decision for this request) in order until one has
 * produced its first event: retries with backoff (within the provider's retry budget, and never
 * for a client that retries by itself), skips open circuits, fails over on provider faults
 * (FALLBACK_ENABLED). When every provider left has an open circuit, the one that opened earliest
 * is called anyway (panic routing): lynkr never answers for an upstream it did not ask. Failures
 * up to the first event can still be answered with an HTTP error or another provider; after it,
 * only with an error event on the stream.
 */
export async function callRoute(router: Router, route: Route, request: MessagesRequest, ctx: CallContext): Promise<Answer> {
  const { retry, fallbackEnabled } = router.settings;
  router.events.emit("decision", {
    requestId: ctx.requestId,
    rule: route.rule,
    reason: route.reason,
    chain: route.chain.map((t) => t.provider.name),
  });
  logger.debug(`route ${route.reason}`, { request_id: ctx.requestId, chain: route.chain.map((t) => t.provider.name) });
  const needsTools = (request.tools?.length ?? 0) > 0 && request.tool_choice?.type !== "none";
  const selfRetrying = retriesByItself(ctx);
  const detours: string[] = [];
  const routeSoFar = () => [route.reason, ...detours].join("; ");
  let lastError: unknown = new ApiError("no provider is configured for this request");
  let calls = 0;
  // lynkr's own exceptions go on as they are (the server logs them and answers an api_error).
  const failed = (error: unknown): unknown =>
    error instanceof AnthropicError ? new RoutedError(error, unansweredRoute(router, route, routeSoFar(), calls)) : error;
  // Open circuits skipped since the last provider that was really called.
  let skipped: Skipped[] = [];

  /** One provider, retried as allowed: its answer, or why it did not give one (lastError says what it said). */
  async function callProvider(target: Target, next: Target | undefined, panic: boolean): Promise<Answer | Miss> {
    const { provider } = target;
    const callCtx: CallContext = target.model ? { ...ctx, model: target.model } : ctx;
    const credential = provider.clientCredential?.(callCtx);
    const breaker = router.breakerFor(provider.name, credential);
    // A panic call claimed no probe slot, so it gives none back.
    const release = () => {
      if (!panic) breaker.release();
    };
    const done = router.retryBudgetFor(provider.name).begin();
    let answered = false;
    let retrySlot: (() => void) | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        if (!panic && !breaker.tryAcquire()) {
          skipped.push({ target, breaker });
          return { reason: "circuit_open" };
        }
        try {
          // A model that cannot take tools is passed over while another provider can (only the last one gets the request without them).
          if (needsTools && next && provider.supportsTools && !(await provider.supportsTools(callCtx))) {
            release();
            return { reason: "no_tool_support" };
          }
          calls++;
          skipped = [];
          const upstream = await provider.stream(request, callCtx);
          const events = upstream.events[Symbol.asyncIterator]();
          const first = await events.next();
          if (first.done) throw new ApiError(`upstream ${provider.name} returned an empty stream`);
          breaker.success();
          const model = target.model ?? provider.model;
          router.events.emit("answered", { requestId: ctx.requestId, provider: provider.name, model, attempts: calls, fellBack: detours.length > 0 });
          answered = true;
          return {
            route: { provider, model, rule: route.rule, why: routeSoFar(), attempts: calls },
            upstream,
            events: watched(events, breaker, ctx.signal, done),
            first: first.value,
          };
        } catch (error) {
          retrySlot?.();
          retrySlot = undefined;
          if (ctx.signal.aborted) {
            release();
            throw failed(new ClientAbortedError());
          }
          const classified = classifyFailure(error);
          if (!classified.providerFault) {
            release();
            // The request's own fault (400, 401, 404…) or lynkr's: the same answer would come from anywhere.
            if (!classified.passOver || !next) throw failed(error);
            lastError = error;
            return classified;
          }
          breaker.failure();
          lastError = error;
          if (panic || selfRetrying || !classified.retryable || attempt >= retry.maxRetries || breaker.state === "open") return classified;
          // A refused connection is a host that is down, a timeout one that already cost its whole
          // wait: another provider answers sooner than a retry would.
          if ((classified.reason === "connection_refused" || classified.reason === "timeout") && next && fallbackEnabled) return classified;
          const delayMs = retryDelayMs(attempt, classified, retry);
          if (delayMs === undefined) return classified;
          retrySlot = router.retryBudgetFor(provider.name).tryRetry();
          if (!retrySlot) {
            router.events.emit("retry_denied", { requestId: ctx.requestId, provider: provider.name, reason: classified.reason });
            return classified;
          }
          router.events.emit("retry", {
            requestId: ctx.requestId,
            provider: provider.name,
            attempt: attempt + 1,
            delayMs,
            reason: classified.reason,
            ...(classified.status !== undefined ? { status: classified.status } : {}),
          });
          await sleep(delayMs, ctx.signal);
        }
      }
    } finally {
      retrySlot?.();
      if (!answered) done();
    }
  }

  for (const [i, target] of route.chain.entries()) {
    const { provider } = target;
    const next = route.chain[i + 1];
    const result = await callProvider(target, next, false);
    if ("events" in result) return result;
    const failure = result;

    // Passing over a provider that cannot take the request is routing, not failover.
    const passedOver = failure.reason === "no_tool_support" || failure.reason === "context_too_long";
    if (!passedOver && !fallbackEnabled) break;
    router.events.emit("fallback", {
      requestId: ctx.requestId,
      from: provider.name,
      to: next?.provider.name,
      reason: failure.reason,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
    });
    if (!next) break;
    const note = `${provider.name} ${failure.reason.replaceAll("_", " ")}${failure.status ? ` (HTTP ${failure.status})` : ""}`;
    detours.push(`fallback: ${note} -> ${next.provider.name}`);
    if (!passedOver) {
      logger.warn(`provider ${note}; answering with ${next.provider.name}`, { request_id: ctx.requestId });
    }
  }

  // Every provider left has an open circuit. A circuit is there to prefer another provider, not
  // to answer for one: the provider whose circuit opened earliest gets the request anyway, and
  // whatever it says goes back as it said it.
  const oldest = skipped.sort((a, b) => a.breaker.openingOrder - b.breaker.openingOrder)[0];
  if (oldest) {
    const name = oldest.target.provider.name;
    const openFor = Math.round((Date.now() - (oldest.breaker.openedSince ?? Date.now())) / 1000);
    detours.push(`panic: every circuit left is open, ${name} (open ${openFor}s) called anyway`);
    logger.warn(`every provider left has an open circuit; calling ${name} anyway`, { request_id: ctx.requestId });
    router.events.emit("panic", { requestId: ctx.requestId, provider: name });
    const result = await callProvider(oldest.target, undefined, true);
    if ("events" in result) return result;
  }
  throw failed(lastError);
}
