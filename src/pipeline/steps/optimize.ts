import type { MessagesRequest } from "../../anthropic/schema.ts";
import type { Optimizer } from "../../optimize/index.ts";
import type { CallContext, ModelLimits, Provider } from "../../providers/types.ts";
import type { Route, Router } from "../../routing/router.ts";
import type { ConversationStore } from "../../shared-state/ports.ts";
import type { Step } from "../turn.ts";

function anthropicWire(provider: Pick<Provider, "kind">): boolean {
  return provider.kind === "anthropic" || provider.kind === "azure-anthropic";
}

/**
 * The request of each model call (the server-tool loop's too), shaped for the route's first
 * provider by the profile its model calls for (src/optimize/). Optimization state is kept by the
 * conversation (none: nothing is remembered between the client's requests); the client's
 * `x-lynkr-optimize` header picks a profile for this request alone. The step sets how calls are
 * shaped; the call step applies it to every call it makes.
 */
export function optimizeStep(optimizer: Optimizer, router: Pick<Router, "primary">, conversations?: ConversationStore): Step {
  return {
    name: "optimize",
    run(turn) {
      // With replicas sharing Redis: the conversation's shared state (thread state, llama.cpp's
      // slot), read while the cache looks the prompt up, so both cost one round trip together;
      // not read for a route where neither applies (Claude Code to Anthropic under `auto`). The
      // call step passes turn.ctx on to the providers.
      const header = turn.ctx.clientHeaders.get("x-lynkr-optimize");
      const providers = turn.route?.chain.map((target) => target.provider) ?? [router.primary];
      const useful = providers.some((p) => p.kind === "llamacpp" || optimizer.usesThreadState(anthropicWire(p), header));
      const opened = turn.conversation === undefined || !useful ? undefined : conversations?.open(turn.conversation);
      if (opened) turn.ctx.conversationState = opened.record;
      turn.shape = async (request: MessagesRequest, route: Route, ctx: CallContext) => {
        if (opened) await opened.ready;
        const first = route.chain[0];
        const provider = first?.provider ?? router.primary;
        let limits: ModelLimits | undefined;
        try {
          limits = await provider.modelLimits?.(request, first?.model ? { ...ctx, model: first.model } : ctx);
        } catch {
          // The model cannot be looked up (its server is down): the call that follows says why.
          limits = undefined;
        }
        const optimized = optimizer.optimize(request, {
          thread: ctx.conversation,
          header: ctx.clientHeaders.get("x-lynkr-optimize"),
          ...(opened ? { shared: opened.record } : {}),
          target: {
            anthropicWire: anthropicWire(provider),
            model: limits?.model ?? first?.model ?? provider.model,
            contextWindow: limits?.contextWindow,
          },
        });
        turn.optimized = optimized.report;
        turn.ctx.facts.optimize = optimized.report;
        return optimized.request;
      };
      return undefined;
    },
  };
}
