import { ApiError } from "../anthropic/errors.ts";
import type { MessagesRequest, StreamEvent } from "../anthropic/schema.ts";
import type { CallContext, Provider, UpstreamStream } from "../providers/types.ts";
import type { Router } from "./router.ts";

export interface Answer {
  provider: Provider;
  upstream: UpstreamStream;
  events: AsyncIterator<StreamEvent>;
  first: StreamEvent;
  route: string;
}

/**
 * Calls the route's providers in order until one has produced its first event. Failures up to
 * that point can still be answered with an HTTP error (or another provider); after it, only
 * with an error event on the stream.
 */
export async function callRoute(router: Router, request: MessagesRequest, ctx: CallContext): Promise<Answer> {
  const route = router.route(request);
  let lastError: unknown = new ApiError("no provider is configured for this request");
  for (const provider of route.chain) {
    try {
      const upstream = await provider.stream(request, ctx);
      const events = upstream.events[Symbol.asyncIterator]();
      const first = await events.next();
      if (first.done) throw new ApiError(`upstream ${provider.name} returned an empty stream`);
      return { provider, upstream, events, first: first.value, route: route.reason };
    } catch (error) {
      lastError = error;
      if (ctx.signal.aborted) break;
    }
  }
  throw lastError;
}

