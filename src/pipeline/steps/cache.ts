import { PromptKey } from "../../cache/key.ts";
import type { PromptCache } from "../../cache/prompt-cache.ts";
import type { Step } from "../turn.ts";

export interface CacheSettings {
  /** Answers are kept per client when clients are told apart by key. */
  perClient: boolean;
  /** The provider and default model: an answer from one configuration never answers another's. */
  scope: string;
}

/** Answers a repeated prompt from the prompt cache (undefined: the cache is off). */
export function cacheStep(cache: PromptCache | undefined, settings: CacheSettings): Step {
  return {
    name: "cache",
    run(turn) {
      const { facts } = turn.ctx;
      facts.hold();
      if (!cache) {
        facts.cache = "off";
        return undefined;
      }
      const scope = `${settings.perClient ? turn.ctx.client : ""}|${settings.scope}`;
      turn.cacheKey = new PromptKey(turn.request, scope, turn.body);
      const entry = cache.get(turn.cacheKey);
      facts.cache = entry ? "hit" : "miss";
      return entry ? { from: "cache", entry } : undefined;
    },
  };
}
