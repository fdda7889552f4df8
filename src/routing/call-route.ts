import { AnthropicError, ApiError, OverloadedError } from "../anthropic/errors.ts";
import type { MessagesRequest, StreamEvent } from "../anthropic/schema.ts";
import { toAnthropicError } from "../anthropic/to-anthropic-error.ts";
import { logger } from "../observability/logger.ts";
import { ClientAbortedError } from "../providers/http.ts";
import type { CallContext, Provider, UpstreamStream } from "../providers/types.ts";
import type { CircuitBreaker } from "./circuit-breaker.ts";
import { classifyFailure, retryDelayMs, type Failure } from "./failure.ts";
import type { Route, Router } from "./router.ts";

/**
 * What routing did for one request: which provider answered (or was routed to, when none did),
 * the model asked of it, the rule, why (the decision and any fallback on the way) and how many
 * calls it took. Facts, not headers: the server renders them as x-lynkr-*.
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

function circuitOpenError(provider: string, breaker: CircuitBreaker): AnthropicError {
  const seconds = Math.max(1, Math.ceil(breaker.retryInMs / 1000));
  return new OverloadedError(`provider ${provider} is failing and lynkr stopped calling it for now (circuit open); next try in ${seconds}s`, {
    status: 503,
    headers: { "retry-after": String(seconds) },
  });
}

/** A failure of a routed call (any: unexpected ones too): it carries how it was routed, like an answer does. */
export class RoutedError extends AnthropicError {
  constructor(
    error: AnthropicError,
    readonly route: RouteFacts,
  ) {
    super(error.type, error.message, { status: error.status, headers: error.headers, cause: error.cause });
  }
}

/** After the first byte nothing can fail over, but a broken stream still counts against the provider. */
function watched(events: AsyncIterator<StreamEvent>, breaker: CircuitBreaker, signal: AbortSignal): AsyncIterator<StreamEvent> {
  return {
    async next() {
      try {
        return await events.next();
      } catch (error) {
        if (!signal.aborted && classifyFailure(error).providerFault) breaker.failure();
        throw error;
      }
    },
    return: (value?: unknown) => events.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
  };
}

/**
 * Calls the providers of `route` (the router's decision for this request) in order until one has produced its first event: retries with
 * backoff, skips open circuits, fails over on provider faults (FALLBACK_ENABLED). Failures up to
 * that point can still be answered with an HTTP error or another provider; after it, only with
 * an error event on the stream.
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
  const detours: string[] = [];
  const routeSoFar = () => [route.reason, ...detours].join("; ");
  let attempts = 0;
  // Counted against where the request was routed when no provider answered.
  const routed = route.chain[0];
  const failed = (error: unknown): RoutedError => {
    const provider = routed?.provider ?? router.primary;
    const facts = { provider, model: routed?.model ?? provider.model, rule: route.rule, why: routeSoFar(), attempts };
    return new RoutedError(toAnthropicError(error, ctx.requestId), facts);
  };
  let lastError: unknown = new ApiError("no provider is configured for this request");

  for (const [i, target] of route.chain.entries()) {
    const { provider } = target;
    const next = route.chain[i + 1];
    const callCtx: CallContext = target.model ? { ...ctx, model: target.model } : ctx;
    const breaker = router.breakerFor(provider.name);
    let failure: Pick<Failure, "reason" | "status"> | undefined;

    for (let attempt = 0; ; attempt++) {
      if (!breaker.tryAcquire()) {
        failure = { reason: "circuit_open" };
        lastError = circuitOpenError(provider.name, breaker);
        break;
      }
      attempts++;
      try {
        // A model that cannot take tools is passed over while another provider can (only the last one gets the request without them).
        if (needsTools && next && provider.supportsTools && !(await provider.supportsTools(callCtx))) {
          breaker.release();
          failure = { reason: "no_tool_support" };
          break;
        }
        const upstream = await provider.stream(request, callCtx);
        const events = upstream.events[Symbol.asyncIterator]();
        const first = await events.next();
        if (first.done) throw new ApiError(`upstream ${provider.name} returned an empty stream`);
        breaker.success();
        const model = target.model ?? provider.model;
        router.events.emit("answered", { requestId: ctx.requestId, provider: provider.name, model, attempts, fellBack: detours.length > 0 });
        return {
          route: { provider, model, rule: route.rule, why: routeSoFar(), attempts },
          upstream,
          events: watched(events, breaker, ctx.signal),
          first: first.value,
        };
      } catch (error) {
        if (ctx.signal.aborted) {
          breaker.release();
          throw failed(new ClientAbortedError());
        }
        const classified = classifyFailure(error);
        if (!classified.providerFault) {
          breaker.release();
          // The request's own fault (400, 401, 404…): the same answer would come from anywhere.
          if (!classified.passOver || !next) throw failed(error);
          lastError = error;
          failure = classified;
          break;
        }
        breaker.failure();
        lastError = error;
        failure = classified;
        if (!classified.retryable || attempt >= retry.maxRetries || breaker.state === "open") break;
        // A refused connection is a host that is down, a timeout one that already cost its whole
        // wait: another provider answers sooner than a retry would.
        if ((classified.reason === "connection_refused" || classified.reason === "timeout") && next && fallbackEnabled) break;
        const delayMs = retryDelayMs(attempt, classified, retry);
        if (delayMs === undefined) break;
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
  throw failed(lastError);
}
