import type { Router } from "../../routing/router.ts";
import type { Step } from "../turn.ts";

/**
 * Decides where the turn goes (rules, tiers, fallbacks: routing/router.ts), measured on the
 * client's bytes. Admission prices the turn at its first provider; the call step calls the chain.
 */
export function routeStep(router: Pick<Router, "route">): Step {
  return {
    name: "route",
    run(turn) {
      turn.route = router.route(turn.request, turn.bodyBytes);
      return undefined;
    },
  };
}
