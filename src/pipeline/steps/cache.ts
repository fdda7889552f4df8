import { PromptKey, promptScope } from "../../cache/key.ts";
import type { PromptCache } from "../../cache/prompt-cache.ts";
import type { Step } from "../turn.ts";

export interface CacheSettings {
  /** Answers are kept per client when clients are told apart by key. */
  perClient: boolean;
  /** The provider and default model: an answer from one configuration never answers another's. */
  provider: string;
  model: string;
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
      // Also apart: what the client sends beside the body that an upstream acts on (cache/key.ts).
      const scope = promptScope({
        client: settings.perClient ? turn.ctx.client : "",
        provider: settings.provider,
        model: settings.model,
        headers: turn.ctx.clientHeaders,
        search: turn.ctx.search,
      });
      turn.cacheKey = new PromptKey(turn.request, scope, turn.body);
      const entry = cache.get(turn.cacheKey);
      facts.cache = entry ? "hit" : "miss";
      return entry ? { from: "cache", entry } : undefined;
    },
  };
}
