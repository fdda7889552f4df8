import { certainlyValidMessagesRequest } from "../anthropic/request-accepts.ts";
import { messagesRequestSchema } from "../anthropic/schema.ts";
import type { RequestFacts } from "../observability/request-facts.ts";
import { reportHeader } from "../optimize/index.ts";
import type { Pipeline } from "../pipeline/run-turn.ts";
import type { TurnResult } from "../pipeline/turn.ts";
import { callContext } from "./call-context.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { ServerSettings } from "./parts.ts";
import { readJsonBody } from "./read-body.ts";
import { RepeatedMember } from "./repeated-member.ts";
import { setRouteHeaders } from "./route-headers.ts";
import { sseBody } from "./sse-body.ts";

/**
 * POST /v1/messages over HTTP: parses the body once, runs the turn (src/pipeline/), and renders
 * its result as JSON or an SSE stream with the x-lynkr-* headers. A client that goes away aborts
 * the turn. `answerHeaders`: what admission adds to the answer (rate-limit state). `bodyRead`:
 * lifts the connection's read timeout once the body is in (the upstream may take minutes).
 */
export function messagesRoute(pipeline: Pipeline, lifecycle: Lifecycle, settings: Pick<ServerSettings, "MAX_REQUEST_BODY_BYTES" | "STREAM_PING_INTERVAL_MS">) {
  // The tools a client sends on every turn are parsed once (repeated-member.ts).
  const tools = new RepeatedMember("tools");
  return async (req: Request, requestId: string, facts: RequestFacts, answerHeaders?: Record<string, string>, bodyRead?: () => void): Promise<Response> => {
    const started = performance.now();
    const client = await readJsonBody(req, messagesRequestSchema, settings.MAX_REQUEST_BODY_BYTES, certainlyValidMessagesRequest, tools);
    bodyRead?.();
    const abort = new AbortController();
    const onClientGone = () => abort.abort();
    req.signal.addEventListener("abort", onClientGone, { once: true });
    const done = () => {
      req.signal.removeEventListener("abort", onClientGone);
      lifecycle.end();
    };
    lifecycle.begin();
    let result: TurnResult;
    try {
      result = await pipeline.runTurn(client, { ...callContext(req, requestId, { signal: abort.signal }), client: facts.client, facts, started });
    } catch (error) {
      done();
      throw error;
    }

    const headers = new Headers({ ...result.headers, ...answerHeaders, "request-id": requestId });
    if (result.route) setRouteHeaders(headers, result.route, { upstream: result.upstreamModel, requested: client.body.model });
    else headers.set("x-lynkr-cache", "hit");
    if (facts.cache === "bypass") headers.set("x-lynkr-cache", "bypass");
    if (result.optimized) headers.set("x-lynkr-optimize", reportHeader(result.optimized));

    if (client.body.stream !== true) {
      try {
        const message = await result.message();
        headers.set("content-type", "application/json");
        // What the upstream's prefix cache served of this prompt (a stream's answer is in its usage and the session record).
        if (result.route) headers.set("x-lynkr-cache-read", String(message.usage?.cache_read_input_tokens ?? 0));
        return new Response(JSON.stringify(message), { status: 200, headers });
      } finally {
        done();
      }
    }
    headers.set("content-type", "text/event-stream; charset=utf-8");
    headers.set("cache-control", "no-cache");
    const body = sseBody(result.events, { pingIntervalMs: settings.STREAM_PING_INTERVAL_MS, onClose: done, abort: () => abort.abort() });
    return new Response(body, { status: 200, headers });
  };
}
