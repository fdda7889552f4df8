import type { AnthropicError } from "../anthropic/errors.ts";
import { messageToEvents } from "../anthropic/message-events.ts";
import { maxModelNameLength, type Message, type MessagesRequest, type StreamEvent } from "../anthropic/schema.ts";
import { PromptKey, promptScope } from "../cache/key.ts";
import { isCacheable, type CacheEntry, type CachedFrame } from "../cache/prompt-cache.ts";
import type { Gateway } from "../gateway.ts";
import { logger } from "../observability/logger.ts";
import type { RequestFacts } from "../observability/request-facts.ts";
import type { Provider } from "../providers/types.ts";
import { sseFrame } from "./sse-response.ts";
import type { Reservation } from "../usage/budgets.ts";
import { costOf, type Price } from "../usage/prices.ts";
import { turnUsage } from "../usage/tokens.ts";
import { calibrateFromUsage } from "../optimize/tokens.ts";

// What operations add to one /v1/messages turn: the budget check and cache lookup before any
// upstream call, and afterwards usage, cost, rate-limit charge and cache store, off the
// response path.

export interface TurnOutcome {
  /** The provider that answered, or that the request was routed to. */
  provider: Pick<Provider, "name" | "kind">;
  model: string | undefined;
  /** The routing rule (a bounded metrics label) and the full reason (for the log). */
  rule: string | undefined;
  route: string | undefined;
  upstreamCalls: number | undefined;
  status: number;
  /** The finished (or partial) answer, when one started. */
  response: Message | undefined;
  error: AnthropicError | undefined;
  firstByteMs: number | undefined;
  /** The request as the upstream got it (optimized), when it differs from the client's. */
  sent?: MessagesRequest;
}

export class TurnOperations {
  /** Set when the prompt cache is on. */
  private readonly cacheKey: PromptKey | undefined;
  private readonly frames: CachedFrame[] | undefined;
  /** The client's session, or one made up for this request (which has spent nothing yet). */
  readonly sessionId: string;
  /** What admission held for this turn, given back (settled to the real usage) when it ends. */
  private reservation: Reservation | undefined;
  private reservedTokens = 0;
  private charged = false;
  private readonly clientBytes: number;

  constructor(
    private readonly gw: Gateway,
    private readonly facts: RequestFacts,
    private readonly request: MessagesRequest,
    /** The session the client named, if any. */
    namedSession: string | undefined,
    private readonly stream: boolean,
    /** The request as the client sent it: its body (a cheaper cache key, see cache/key.ts), headers and query string. */
    sent: { body?: string; headers: Headers; search: string },
    /** Not answered from the cache; the fresh answer still replaces the cached one. */
    private readonly cacheBypass = false,
  ) {
    facts.stream = stream;
    this.sessionId = namedSession ?? crypto.randomUUID();
    this.clientBytes = sent.body?.length ?? JSON.stringify(request).length;
    if (gw.ops.cache) {
      const scope = promptScope({
        client: gw.config.LYNKR_API_KEYS ? facts.client : "",
        provider: gw.config.MODEL_PROVIDER,
        model: gw.config.MODEL_DEFAULT ?? "",
        headers: sent.headers,
        search: sent.search,
      });
      this.cacheKey = new PromptKey(request, scope, sent.body);
      if (stream) this.frames = [];
    }
    facts.cache = !this.cacheKey ? "off" : cacheBypass ? "bypass" : "miss";
  }

  /**
   * Reserves the turn's most it can use (estimated input + max_tokens) against the client's
   * token bucket and, at the price of the provider and model it is routed to, against every
   * budget; refuses it when that does not fit. Returns the cached answer when there is one.
   */
  async admit(target: { kind: string; model: string }): Promise<CacheEntry | undefined> {
    const { gw, facts, request } = this;
    // A character of JSON is rarely less than a quarter of a token: a generous estimate, and no
    // tokenizer pass on the request path.
    const inputTokens = Math.ceil(this.clientBytes / 4);
    this.reservedTokens = await gw.ops.limiter.reserveTokens(facts.client, inputTokens + request.max_tokens);
    if (gw.ops.budgets.active) {
      try {
        const price = gw.ops.prices.lookup(target.kind, target.model).price;
        this.reservation = await gw.ops.budgets.reserve(
          { client: facts.client, sessionId: this.sessionId },
          { model: target.model, maxUsd: price && costOf(priciestInput(price), { input_tokens: inputTokens, output_tokens: request.max_tokens, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }) },
        );
      } catch (error) {
        this.release(0);
        facts.rejected = "over_budget";
        throw error;
      }
    }
    const hit = this.cacheKey && !this.cacheBypass ? gw.ops.cache?.get(this.cacheKey) : undefined;
    if (!hit) facts.hold();
    return hit;
  }

  /** Gives back what admission held, keeping `usedTokens` in the client's token bucket. */
  private release(usedTokens: number): void {
    this.gw.ops.limiter.settle(this.facts.client, this.reservedTokens, usedTokens);
    this.reservedTokens = 0;
    this.reservation?.release(this.facts.costUsd ?? 0);
    this.reservation = undefined;
  }

  /** Keeps each event as it was sent, for a byte-identical replay. */
  capture(event: StreamEvent, data: string): void {
    if (this.frames && event.type !== "error") this.frames.push({ type: event.type, data });
  }

  /**
   * Records an answer's usage and cost (what budgets count) and gives back the reservation. Call
   * before the answer's last byte goes out: an answer the client got is then always charged,
   * even if the process dies right after (WAL commits survive a crash of the process).
   */
  charge(provider: Pick<Provider, "name" | "kind">, response: Message): void {
    if (this.charged) return;
    this.charged = true;
    try {
      this.account(provider.name, provider.kind, response, false);
    } catch (error) {
      logger.error("could not record usage", { request_id: this.facts.requestId, error: String(error) });
    }
    this.release((this.facts.inputTokens ?? 0) + (this.facts.outputTokens ?? 0));
  }

  /** Accounts for a turn that reached the upstream (unless `charge` did already). Call off the response path. */
  finish(outcome: TurnOutcome): void {
    const { gw, facts } = this;
    const model = outcome.response?.model ?? outcome.model ?? this.request.model;
    facts.provider = outcome.provider.name;
    facts.model = model?.slice(0, maxModelNameLength);
    facts.rule = outcome.rule;
    facts.route = outcome.route;
    facts.upstreamCalls = outcome.upstreamCalls;
    facts.firstByteMs = outcome.firstByteMs;
    if (outcome.error) {
      facts.errorType = outcome.error.type;
      facts.errorMessage = outcome.error.message;
    }
    // A partial answer (failed or aborted stream) is charged for what it used.
    if (outcome.response) this.charge(outcome.provider, outcome.response);
    else this.release(0);
    try {
      if (outcome.response) {
        this.calibrate(outcome);
        if (facts.requestBody !== undefined) facts.responseBody ??= JSON.stringify(outcome.response);
        if (this.cacheKey && outcome.status === 200 && isCacheable(outcome.response)) {
          gw.ops.cache?.set(this.cacheKey, outcome.response, this.frames);
        }
      }
    } catch (error) {
      logger.error("could not record the answer", { request_id: facts.requestId, error: String(error) });
    }
    facts.close(outcome.status);
  }

  /**
   * The upstream's own prompt count calibrates local counts for its model. Not Ollama's: its
   * prompt_eval_count leaves out what its KV cache reused, so it is no count of the prompt.
   */
  private calibrate(outcome: TurnOutcome): void {
    const usage = outcome.response?.usage;
    if (!usage || outcome.provider.kind === "ollama" || outcome.model === undefined) return;
    const reported = (usage.input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0);
    if (reported > 0) calibrateFromUsage(outcome.model, outcome.sent ?? this.request, reported);
  }

  /**
   * Tokens and cost of an answer into the facts, the usage table and the rate limiter. A cached
   * answer spent nothing: it records what it saved instead.
   */
  private account(provider: string, kind: string, response: Message, cached: boolean): void {
    const { gw, facts } = this;
    const usage = turnUsage(this.request, response);
    const cost = costOf(gw.ops.prices.lookup(kind, response.model).price, usage);
    facts.inputTokens = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
    facts.cacheReadTokens = usage.cache_read_input_tokens;
    facts.outputTokens = usage.output_tokens;
    facts.tokensEstimated = usage.estimated;
    facts.costUsd = cached ? 0 : cost;
    if (cached) facts.savedUsd = cost;
    gw.ops.usage.record({
      requestId: facts.requestId,
      sessionId: this.sessionId,
      client: facts.client,
      provider,
      model: response.model,
      usage,
      costUsd: facts.costUsd,
      cached,
      savedUsd: facts.savedUsd,
    });
  }

  /** Answers from the cache, as a stream or JSON, exactly as the original answer was sent. */
  async replay(entry: CacheEntry, answerHeaders?: Record<string, string>): Promise<Response> {
    const { facts } = this;
    const headers = new Headers({ ...answerHeaders, "request-id": facts.requestId, "x-lynkr-cache": "hit" });
    facts.cache = "hit";
    facts.model = entry.message.model;
    facts.provider = "cache";
    facts.hold();
    // Once the answer went out, as for an upstream's.
    setImmediate(() => {
      try {
        this.account("cache", "", entry.message, true);
      } catch (error) {
        logger.error("could not record usage", { request_id: facts.requestId, error: String(error) });
      }
      this.release(0);
      facts.close(200);
    });

    if (!this.stream) {
      headers.set("content-type", "application/json");
      return new Response(JSON.stringify(entry.message), { status: 200, headers });
    }
    headers.set("content-type", "text/event-stream; charset=utf-8");
    headers.set("cache-control", "no-cache");
    // The frames as they were first sent; an answer cached from JSON goes out as its events.
    const frames = entry.frames ?? (await Array.fromAsync(messageToEvents(entry.message), (e) => ({ type: e.type, data: JSON.stringify(e) })));
    return new Response(new Blob(frames.map((f) => sseFrame(f.type, f.data))), { status: 200, headers });
  }
}

/** Cache writes cost more than plain input at some providers; an estimate takes the dearer. */
function priciestInput(price: Price): Price {
  return { ...price, input: Math.max(price.input, price.cacheWrite ?? price.input) };
}
