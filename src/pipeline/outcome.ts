import type { AnthropicError } from "../anthropic/errors.ts";
import type { Message, MessagesRequest } from "../anthropic/schema.ts";
import type { PromptKey } from "../cache/key.ts";
import type { CachedFrame } from "../cache/prompt-cache.ts";
import { logger } from "../observability/logger.ts";
import type { RequestFacts } from "../observability/request-facts.ts";
import type { RouteFacts } from "../routing/call-route.ts";
import type { TurnUsage } from "../usage/tokens.ts";
import type { Turn } from "./turn.ts";

// One finished turn, once: who asked, how it was routed, the answer, its usage and cost, and
// its timings. Every finished turn emits exactly one, after its answer went out; the modules that
// keep something of a turn (sessions, usage and budgets, the prompt cache, metrics and the
// request log, memory) subscribe at the composition root instead of being called from here.

export interface TurnOutcome {
  readonly requestId: string;
  readonly client: string;
  readonly sessionId: string;
  /** True when the client named the session (else `sessionId` was made up for this turn). */
  readonly namedSession: boolean;
  readonly headers: Headers;
  readonly stream: boolean;
  /** The request as the client sent it, and as it went upstream (memory and optimize applied). */
  readonly clientRequest: MessagesRequest;
  readonly request: MessagesRequest;
  /** The request the upstream got, when the optimize step changed it. */
  readonly sent: MessagesRequest | undefined;
  /** Undefined when the prompt cache answered (or, on a failure, before any route was made). */
  readonly route: RouteFacts | undefined;
  readonly cached: boolean;
  readonly cacheKey: PromptKey | undefined;
  readonly status: number;
  readonly error: AnthropicError | undefined;
  /** The finished (or partial) answer, when one started. */
  readonly response: Message | undefined;
  /** The events as they were sent, when streamed with the prompt cache on. */
  readonly frames: CachedFrame[] | undefined;
  readonly usage: TurnUsage | undefined;
  /** Dollars the upstream charged (0 from the cache; undefined: unpriced model), and saved by the cache. */
  readonly costUsd: number | undefined;
  readonly savedUsd: number | undefined;
  readonly latencyMs: number;
  readonly firstByteMs: number | undefined;
  /** The request's log and metrics record, for the subscriber that completes it. */
  readonly facts: RequestFacts;
}

/** Keeps something of a turn; a Promise it returns is what a response's end waits for (holdsEnd). */
export type OutcomeSubscriber = (outcome: TurnOutcome) => unknown;

/** How a turn ended, as the pipeline saw it. */
export interface Ending {
  /** Undefined when the cache answered, or no route was made. */
  route: RouteFacts | undefined;
  cached: boolean;
  status: number;
  error?: AnthropicError;
  response?: Message;
  frames?: CachedFrame[];
  firstByteMs?: number;
}

export class Outcomes {
  private readonly subscribers: { name: string; fn: OutcomeSubscriber; holdsEnd: boolean }[] = [];

  /**
   * `holdsEnd`: the answer's response ends only once what `fn` returns settles, so a client that
   * saw its answer end finds the turn kept (turn records in PostgreSQL, read by every replica).
   */
  subscribe(name: string, fn: OutcomeSubscriber, options: { holdsEnd?: boolean } = {}): void {
    this.subscribers.push({ name, fn, holdsEnd: options.holdsEnd === true });
  }

  /**
   * Builds the turn's outcome and hands it to every subscriber, after the answer went out. With a
   * subscriber that holds the end, returns what the response's end waits for.
   */
  emit(turn: Turn, ending: Ending): Promise<void> | undefined {
    const latencyMs = performance.now() - turn.ctx.started;
    if (!this.subscribers.some((s) => s.holdsEnd)) {
      setImmediate(() => void this.deliver(this.outcomeOf(turn, ending, latencyMs)));
      return undefined;
    }
    return new Promise((resolve) => setImmediate(() => void this.deliver(this.outcomeOf(turn, ending, latencyMs)).then(resolve)));
  }

  private outcomeOf(turn: Turn, ending: Ending, latencyMs: number): TurnOutcome {
    const { ctx } = turn;
    const { cached, response } = ending;
    // Settled (usage recorded, reservation given back) before the last byte; here, at the latest.
    const spent = turn.settle?.(response ? { response, provider: ending.route?.provider ?? { name: "cache", kind: "" }, cached } : undefined) ?? turn.spent;
    return Object.freeze({
      requestId: ctx.requestId,
      client: ctx.client,
      sessionId: turn.sessionId,
      namedSession: turn.namedSession !== undefined,
      headers: ctx.clientHeaders,
      stream: turn.stream,
      clientRequest: turn.client,
      request: turn.request,
      sent: turn.sent,
      route: ending.route,
      cached,
      cacheKey: turn.cacheKey,
      status: ending.status,
      error: ending.error,
      response,
      frames: ending.frames,
      usage: spent?.usage,
      costUsd: spent?.costUsd,
      savedUsd: spent?.savedUsd,
      latencyMs,
      firstByteMs: ending.firstByteMs,
      facts: ctx.facts,
    });
  }

  private async deliver(outcome: TurnOutcome): Promise<void> {
    const held: Promise<unknown>[] = [];
    for (const { name, fn, holdsEnd } of this.subscribers) {
      try {
        const kept = fn(outcome);
        if (holdsEnd && kept instanceof Promise) held.push(kept.catch(() => undefined));
      } catch (error) {
        // What is kept of a turn must never cost another subscriber its part.
        logger.error(`could not record turn (${name})`, { request_id: outcome.requestId, error: String(error) });
      }
    }
    if (held.length > 0) await Promise.all(held);
  }
}
