import type { Router } from "../../routing/router.ts";
import type { Step } from "../turn.ts";

/**
 * Decides where the turn goes (rules, tiers, fallbacks: routing/router.ts), measured on the
 * client's bytes. Admission prices the turn at its first provider; the call step calls the chain.
 */
export function routeStep(router: Pick<Router, "route" | "prepare">): Step {
  return {
    name: "route",
    async run(turn) {
      // What the decision counts (a longContext rule) is counted a slice at a time first, so
      // deciding holds the event loop for no count.
      await router.prepare(turn.request, turn.bodyBytes);
      turn.route = router.route(turn.request, turn.bodyBytes);
      return undefined;
    },
  };
}
