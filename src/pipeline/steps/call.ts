import { anthropicWireOnly, callWithServerTools } from "../../agent/loop.ts";
import type { ServerToolServices } from "../../agent/services.ts";
import { requestTools } from "../../agent/toolset.ts";
import type { MessagesRequest } from "../../anthropic/schema.ts";
import { toAnthropicError } from "../../anthropic/to-anthropic-error.ts";
import { RoutedError, unansweredRoute } from "../../routing/call-route.ts";
import type { Route, Router } from "../../routing/router.ts";
import type { Outcomes } from "../outcome.ts";
import type { Step } from "../turn.ts";

/**
 * Routes the turn and calls its providers until one answers (routing/call-route.ts); tools lynkr
 * runs itself (MCP, web search and fetch off Anthropic) make that call a loop of calls on the same
 * route (src/agent/). A turn no provider answered ends here, with its outcome, counted against
 * where it was routed.
 */
export function callStep(router: Router, serverTools: ServerToolServices, outcomes: Outcomes): Step {
  return {
    name: "call",
    async run(turn) {
      const { request } = turn;
      // From here the turn ends in an outcome, which closes its facts.
      turn.ctx.facts.hold();
      const ctx = { ...turn.ctx, clientBody: turn.body, bodyBytes: turn.bodyBytes, ...(turn.conversation !== undefined ? { conversation: turn.conversation } : {}) };
      let route: Route | undefined = turn.route;
      try {
        const routed = turn.route ?? router.route(request, turn.bodyBytes);
        route = routed;
        const tools = await requestTools(request, serverTools, { anthropicOnly: anthropicWireOnly(routed.chain.map((t) => t.provider.kind)) });
        const call = async (next: MessagesRequest) => {
          const shaped = turn.shape ? await turn.shape(next, routed, ctx) : next;
          turn.sent = shaped === request ? undefined : shaped;
          // A changed request must not go out as the client's bytes (ctx.clientBody).
          return router.call(shaped, shaped === request ? ctx : { ...ctx, clientBody: undefined }, routed);
        };
        const answer = await callWithServerTools(request, tools, call, { policy: serverTools.policy, signal: turn.ctx.signal, onToolCall: serverTools.onToolCall });
        return { from: "upstream", answer };
      } catch (error) {
        const err = toAnthropicError(error, turn.ctx.requestId);
        const facts = err instanceof RoutedError ? err.route : route && unansweredRoute(router, route);
        outcomes.emit(turn, { route: facts, cached: false, status: err.status, error: err });
        throw err;
      }
    },
  };
}
