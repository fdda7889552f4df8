import { PromptKey, promptScope } from "../../cache/key.ts";
import type { CacheEntry, PromptCache } from "../../cache/prompt-cache.ts";
import type { Step, TurnAnswer } from "../turn.ts";

export interface CacheSettings {
  /** Answers are kept per client when clients are told apart by key. */
  perClient: boolean;
  /** The provider and default model: an answer from one configuration never answers another's. */
  provider: string;
  model: string;
}

/** A client's per-request prompt-cache bypass: `x-lynkr-cache: bypass`, or HTTP's `cache-control: no-cache`. */
function wantsFreshAnswer(headers: Headers): boolean {
  return headers.get("x-lynkr-cache")?.trim().toLowerCase() === "bypass" || /(^|,)\s*no-(cache|store)\s*(,|$)/i.test(headers.get("cache-control") ?? "");
}

/**
 * Answers a repeated prompt from the prompt cache (undefined: the cache is off). A turn that asks
 * for a fresh answer is still keyed: its answer replaces the cached one.
 */
export function cacheStep(cache: PromptCache | undefined, settings: CacheSettings): Step {
  return {
    name: "cache",
    run(turn) {
      const { facts } = turn.ctx;
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
      if (wantsFreshAnswer(turn.ctx.clientHeaders)) {
        facts.cache = "bypass";
        return undefined;
      }
      const answer = (entry: CacheEntry | undefined): TurnAnswer | undefined => {
        facts.cache = entry ? "hit" : "miss";
        if (!entry) return undefined;
        // Open until the turn's outcome closes them.
        facts.hold();
        return { from: "cache", entry };
      };
      // Memory (and SQLite) answer at once; Redis and PostgreSQL in one round trip.
      const found = cache.get(turn.cacheKey);
      return found instanceof Promise ? found.then(answer) : answer(found);
    },
  };
}
