import { MessageAccumulator } from "../anthropic/accumulate.ts";
import type { AnthropicError } from "../anthropic/errors.ts";
import { messagesRequestSchema, type Message, type MessagesRequest } from "../anthropic/schema.ts";
import { anthropicWireOnly, callWithServerTools } from "../agent/loop.ts";
import { requestTools } from "../agent/toolset.ts";
import type { Gateway } from "../gateway.ts";
import { injectMemory, onTurnFinished } from "../memory/inject.ts";
import { logger } from "../observability/logger.ts";
import { reportHeader, type OptimizeReport } from "../optimize/index.ts";
import { threadKey } from "../optimize/threads.ts";
import type { RequestFacts } from "../observability/request-facts.ts";
import type { Provider } from "../providers/types.ts";
import { callRoute, headerValue, RoutedError, type Answer } from "../routing/call-route.ts";
import { callContext } from "./call-context.ts";
import { toAnthropicError } from "./to-anthropic-error.ts";
import { readJsonBody } from "./read-body.ts";
import { optimizeStep } from "./optimize-step.ts";
import { sseStream } from "./sse-response.ts";
import { sessionIdFor } from "./session-id.ts";
import { TurnOperations } from "./turn-operations.ts";

/** A client's per-request prompt-cache bypass: `x-lynkr-cache: bypass`, or HTTP's `cache-control: no-cache`. */
function wantsFreshAnswer(headers: Headers): boolean {
  return headers.get("x-lynkr-cache")?.trim().toLowerCase() === "bypass" || /(^|,)\s*no-(cache|store)\s*(,|$)/i.test(headers.get("cache-control") ?? "");
}

/**
 * `answerHeaders`: what admission adds to the answer (rate-limit state). `bodyRead`: lifts the
 * connection's read timeout once the body is in (the upstream may take minutes to answer).
 */
export async function handleMessages(
  gw: Gateway,
  req: Request,
  requestId: string,
  facts: RequestFacts,
  answerHeaders?: Record<string, string>,
  bodyRead?: () => void,
): Promise<Response> {
  const started = performance.now();
  const client = await readJsonBody(req, messagesRequestSchema, gw.config.MAX_REQUEST_BODY_BYTES);
  // The session's memory block, before the cache key and the upstream see the request.
  const memoryTurn = { sessionId: sessionIdFor(req.headers, client.body), client: facts.client, headers: req.headers };
  const { request, clientBody } = injectMemory(gw.memory, { request: client.body, clientBody: client.text }, memoryTurn);
  bodyRead?.();
  // Budgets and the prompt cache, before any upstream call; usage and cache store after.
  const bypass = wantsFreshAnswer(req.headers);
  const turn = new TurnOperations(gw, facts, request, memoryTurn.sessionId, request.stream === true, {
    body: clientBody,
    headers: req.headers,
    search: new URL(req.url).search,
  }, bypass);
  const { sessionId } = turn;
  await gw.router.prepare(request);
  const route = gw.router.route(request);
  const target = route.chain[0];
  const targetProvider = target?.provider ?? gw.router.primary;
  const cached = await turn.admit({ kind: targetProvider.kind, model: target?.model ?? targetProvider.model ?? request.model });
  if (cached) return turn.replay(cached, answerHeaders);
  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  req.signal.addEventListener("abort", onClientGone, { once: true });
  // The conversation the client names (its session, and the agent of a subagent): what the
  // optimize step keeps state by and upstream prefix caches are steered by.
  const conversation = threadKey(memoryTurn.sessionId, req.headers.get("x-claude-code-agent-id"));
  const ctx = callContext(req, requestId, { signal: abort.signal, clientBody, ...(conversation !== undefined ? { conversation } : {}) });
  const wantsStream = request.stream === true;
  gw.lifecycle.begin();
  // In flight until its answer is recorded; a throw on the way out of any step (routing included)
  // ends it too, or shutdown would wait its whole timeout for a request long gone.
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    gw.lifecycle.end();
  };
  try {
    const record = (provider: Provider, model: string | undefined, status: number, outcome: {
      /** The answer, or as much of it as came. */
      response?: Message;
      error?: AnthropicError;
      firstByteMs?: number;
      /** The routing decision and any fallback, logged with the request. */
      route?: string;
      /** Upstream calls the routing made for this request. */
      upstreamCalls?: number;
    }) => {
      const latencyMs = performance.now() - started;
      end();
      const { response } = outcome;
      // Recording happens after the answer went out, so it never delays the client.
      setImmediate(() => {
        try {
          gw.sessions.record({
            sessionId,
            requestId,
            provider: provider.name,
            model: response?.model ?? model,
            requestedModel: request.model,
            stream: wantsStream,
            status,
            latencyMs,
            firstByteMs: outcome.firstByteMs,
            messages: request.messages,
            response,
            error: outcome.error ? { type: outcome.error.type, message: outcome.error.message } : undefined,
            route: outcome.route,
            // call-route writes each hand-over into the route as "fallback: <why> -> <next>".
            fallbacks: outcome.route?.match(/fallback: /g)?.length ?? 0,
          });
        } catch (error) {
          logger.error("could not record turn", { request_id: requestId, error: String(error) });
        }
        onTurnFinished(gw.memory, client.body, response, memoryTurn);
        turn.finish({ provider, model, rule: route.rule, route: outcome.route, upstreamCalls: outcome.upstreamCalls, status, response, error: outcome.error, firstByteMs: outcome.firstByteMs, sent });
      });
    };

    let answer: Answer;
    // What the optimize step did to the latest upstream call, and the request that call sent.
    let optimized: OptimizeReport | undefined;
    let sent: MessagesRequest | undefined;
    try {
      // Tools lynkr runs itself (MCP, web search/fetch off Anthropic) turn one call into a loop (src/agent/).
      const tools = await requestTools(request, gw.serverTools, { anthropicOnly: anthropicWireOnly(route.chain.map((t) => t.provider.kind)) });
      const call = async (next: MessagesRequest) => {
        const step = await optimizeStep(gw, next, route, ctx);
        optimized = step.report;
        facts.optimize = step.report;
        sent = step.request === request ? undefined : step.request;
        // A changed request must not go out as the client's bytes (ctx.clientBody).
        return callRoute(gw.router, route, step.request, step.request === request ? ctx : { ...ctx, clientBody: undefined });
      };
      answer = await callWithServerTools(request, tools, call, { policy: gw.serverTools.policy, signal: abort.signal, onToolCall: gw.serverTools.onToolCall });
    } catch (error) {
      req.signal.removeEventListener("abort", onClientGone);
      const err = toAnthropicError(error, requestId);
      // Counted against where the request was routed, with the route it took (fallbacks included).
      const routed = route.chain[0];
      const provider = routed?.provider ?? gw.router.primary;
      record(provider, routed?.model ?? provider.model, err.status, { error: err, ...(err instanceof RoutedError ? { route: err.route, upstreamCalls: err.upstreamCalls } : { route: route.reason }) });
      throw err;
    }

    const { provider } = answer;
    const headers = new Headers({ ...answer.upstream.headers, ...answerHeaders, "request-id": requestId });
    // Which provider and model answered, and why (routing rule, fallbacks on the way).
    headers.set("x-lynkr-provider", headerValue(provider.name));
    // The model the upstream was asked for: MODEL_MAP's choice, not the provider's default.
    headers.set("x-lynkr-model", headerValue(answer.upstream.model ?? answer.model ?? request.model));
    headers.set("x-lynkr-route", headerValue(answer.route));
    if (optimized) headers.set("x-lynkr-optimize", reportHeader(optimized));
    if (bypass && gw.ops.cache) headers.set("x-lynkr-cache", "bypass");
    const acc = new MessageAccumulator();
    const soFar = () => (acc.started ? acc.result() : undefined);

    if (!wantsStream) {
      try {
        acc.push(answer.first);
        for (;;) {
          const next = await answer.events.next();
          if (next.done) break;
          acc.push(next.value);
        }
        const message = acc.result();
        turn.charge(provider, message);
        record(provider, answer.model, 200, { response: message, route: answer.route, upstreamCalls: answer.upstreamCalls });
        headers.set("content-type", "application/json");
        // What the upstream's prefix cache served of this prompt (a stream's answer is in its usage and the session record).
        headers.set("x-lynkr-cache-read", String(message.usage?.cache_read_input_tokens ?? 0));
        return new Response(JSON.stringify(message), { status: 200, headers });
      } catch (error) {
        const err = toAnthropicError(error, requestId);
        record(provider, answer.model, err.status, { response: soFar(), error: err, route: answer.route, upstreamCalls: answer.upstreamCalls });
        // Failed after the first event: still says how it was routed (a panic call, say).
        throw new RoutedError(err, answer.route, answer.upstreamCalls);
      } finally {
        req.signal.removeEventListener("abort", onClientGone);
      }
    }

    headers.set("content-type", "text/event-stream; charset=utf-8");
    headers.set("cache-control", "no-cache");
    const firstByteMs = performance.now() - started;
    const body = sseStream({
      first: answer.first,
      rest: answer.events,
      pingIntervalMs: gw.config.STREAM_PING_INTERVAL_MS,
      onEvent: (event, data) => {
        if (event.type !== "error") acc.push(event);
        turn.capture(event, data);
        // Charged before message_stop is written: a client that saw the end of its answer was charged for it.
        if (event.type === "message_stop") turn.charge(provider, acc.result());
      },
      toError: (error) => toAnthropicError(error, requestId),
      onEnd: ({ error, aborted }) => {
        req.signal.removeEventListener("abort", onClientGone);
        const status = error ? error.status : aborted ? 499 : 200;
        record(provider, answer.model, status, { response: soFar(), error, firstByteMs, route: answer.route, upstreamCalls: answer.upstreamCalls });
      },
      abort: () => abort.abort(),
    });
    return new Response(body, { status: 200, headers });
  } catch (error) {
    end();
    throw error;
  }
}
