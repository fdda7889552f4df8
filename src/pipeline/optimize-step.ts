import type { MessagesRequest } from "../anthropic/schema.ts";
import type { Gateway } from "../gateway.ts";
import type { Optimized } from "../optimize/index.ts";
import type { CallContext, ModelLimits } from "../providers/types.ts";
import type { Route } from "../routing/router.ts";

/**
 * The pipeline's optimize step: the request for the route's first provider, shaped by the
 * profile its model calls for (src/optimize/), and what was done. Optimization state is kept by
 * `ctx.conversation` (none: nothing is remembered between the client's requests); the client's
 * `x-lynkr-optimize` header picks a profile for this request alone.
 */
export async function optimizeStep(gw: Gateway, request: MessagesRequest, route: Route, ctx: CallContext): Promise<Optimized> {
  const first = route.chain[0];
  const provider = first?.provider ?? gw.router.primary;
  let limits: ModelLimits | undefined;
  try {
    limits = await provider.modelLimits?.(request, first?.model ? { ...ctx, model: first.model } : ctx);
  } catch {
    // The model cannot be looked up (its server is down): the call that follows says why.
    limits = undefined;
  }
  return gw.ops.optimizer.optimize(request, {
    thread: ctx.conversation,
    header: ctx.clientHeaders.get("x-lynkr-optimize"),
    target: {
      anthropicWire: provider.kind === "anthropic" || provider.kind === "azure-anthropic",
      model: limits?.model ?? first?.model ?? provider.model,
      contextWindow: limits?.contextWindow,
    },
  });
}
