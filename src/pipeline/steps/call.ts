import { toAnthropicError } from "../../anthropic/to-anthropic-error.ts";
import { RoutedError } from "../../routing/call-route.ts";
import type { Router } from "../../routing/router.ts";
import type { Outcomes } from "../outcome.ts";
import type { Step } from "../turn.ts";

/**
 * Routes the turn and calls its providers until one answers (routing/call-route.ts). A turn no
 * provider answered ends here, with its outcome, counted against where it was routed.
 */
export function callStep(router: Router, outcomes: Outcomes): Step {
  return {
    name: "call",
    async run(turn) {
      const ctx = { ...turn.ctx, clientBody: turn.body, bodyBytes: turn.bodyBytes };
      try {
        return { from: "upstream", answer: await router.call(turn.request, ctx) };
      } catch (error) {
        const err = toAnthropicError(error, turn.ctx.requestId);
        outcomes.emit(turn, { route: err instanceof RoutedError ? err.route : undefined, cached: false, status: err.status, error: err });
        throw err;
      }
    },
  };
}
