import { maxModelNameLength } from "./anthropic/schema.ts";
import { isCacheable, type PromptCache } from "./cache/prompt-cache.ts";
import { onTurnFinished } from "./memory/inject.ts";
import type { MemoryService } from "./memory/service.ts";
import type { OutcomeSubscriber } from "./pipeline/outcome.ts";
import { calibrateFromUsage } from "./optimize/tokens.ts";
import type { SessionRecorder } from "./store/sessions.ts";

// What each module keeps of a finished turn, as subscribers to the pipeline's turn outcomes
// (pipeline/outcome.ts), wired at the composition root (app.ts).

/** The turn in its session's history; a cached answer is not a turn of the conversation. */
export function recordSession(sessions: SessionRecorder): OutcomeSubscriber {
  return (o) => {
    if (o.cached) return undefined;
    return sessions.record({
      sessionId: o.sessionId,
      requestId: o.requestId,
      provider: o.route?.provider.name ?? "none",
      model: o.response?.model ?? o.route?.model,
      requestedModel: o.request.model,
      stream: o.stream,
      status: o.status,
      latencyMs: o.latencyMs,
      firstByteMs: o.firstByteMs,
      messages: o.request.messages,
      response: o.response,
      error: o.error ? { type: o.error.type, message: o.error.message } : undefined,
      route: o.route?.why,
      // call-route writes each hand-over into the route as "fallback: <why> -> <next>".
      fallbacks: o.route?.why.match(/fallback: /g)?.length ?? 0,
    });
  };
}

/** A finished answer that calls no tools answers the same prompt next time. */
export function storeAnswer(cache: PromptCache): OutcomeSubscriber {
  return (o) => {
    if (o.cached || !o.cacheKey || o.status !== 200 || !o.response || !isCacheable(o.response)) return;
    cache.set(o.cacheKey, o.response, o.frames);
  };
}

/** Memory learns from the user's own turns (memory/inject.ts). */
export function learnFrom(memory: MemoryService | undefined): OutcomeSubscriber {
  return (o) => {
    if (o.cached) return;
    onTurnFinished(memory, o.clientRequest, o.response, { sessionId: o.namedSession ? o.sessionId : undefined, client: o.client, headers: o.headers });
  };
}

/**
 * The upstream's own prompt count calibrates local counts for its model. Not Ollama's: its
 * prompt_eval_count leaves out what its KV cache reused, so it is no count of the prompt.
 */
export function calibrateTokens(): OutcomeSubscriber {
  return (o) => {
    const usage = o.response?.usage;
    const model = o.route?.model;
    if (o.cached || !usage || o.route?.provider.kind === "ollama" || model === undefined) return;
    const reported = (usage.input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0);
    if (reported > 0) calibrateFromUsage(model, o.sent ?? o.request, reported);
  };
}

/** Completes the request's facts and closes them: the request log line and the metrics follow. */
export function closeFacts(): OutcomeSubscriber {
  return (o) => {
    const { facts } = o;
    if (o.cached) {
      facts.provider = "cache";
      facts.model = o.response?.model;
    } else {
      facts.provider = o.route?.provider.name;
      facts.model = (o.response?.model ?? o.route?.model ?? o.request.model).slice(0, maxModelNameLength);
      facts.rule = o.route?.rule;
      facts.route = o.route?.why;
      facts.upstreamCalls = o.route?.attempts;
      facts.firstByteMs = o.firstByteMs;
      if (o.error) {
        facts.errorType = o.error.type;
        facts.errorMessage = o.error.message;
      }
    }
    if (o.usage) {
      facts.inputTokens = o.usage.input_tokens + o.usage.cache_read_input_tokens + o.usage.cache_creation_input_tokens;
      facts.outputTokens = o.usage.output_tokens;
      facts.tokensEstimated = o.usage.estimated;
      facts.costUsd = o.costUsd;
      facts.cacheReadTokens = o.usage.cache_read_input_tokens;
      if (o.cached) facts.savedUsd = o.savedUsd;
      if (!o.cached && facts.requestBody !== undefined) facts.responseBody ??= JSON.stringify(o.response);
    }
    facts.close(o.status);
  };
}
