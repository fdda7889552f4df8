import type { Message, MessagesRequest } from "../anthropic/schema.ts";
import type { PromptKey } from "../cache/key.ts";
import type { OptimizeReport } from "../optimize/index.ts";
import type { TurnUsage } from "../usage/tokens.ts";
import type { CacheEntry } from "../cache/prompt-cache.ts";
import type { RequestFacts } from "../observability/request-facts.ts";
import type { CallContext, Provider } from "../providers/types.ts";
import type { Answer, RouteFacts } from "../routing/call-route.ts";
import type { Route } from "../routing/router.ts";

// The shapes one /v1/messages turn goes through: what the server hands the pipeline (no HTTP
// in it), the turn the steps work on, and what comes back.

/** What the server knows of the request, beyond its body. */
export interface TurnContext extends CallContext {
  /** The caller: key name, else `ip:<address>`. */
  client: string;
  /** The request's log and metrics record; the pipeline fills it in and closes it. */
  facts: RequestFacts;
  /** performance.now() when the request arrived. */
  started: number;
}

/** The client's body, parsed once; `text` is its bytes as sent (reused, never re-serialized). */
export interface ClientBody {
  body: MessagesRequest;
  text: string;
}

/** What an answer cost, once settled: its usage, dollars charged (0 from the cache; undefined: unpriced), dollars the cache saved. */
export interface Spent {
  usage: TurnUsage;
  costUsd: number | undefined;
  savedUsd: number | undefined;
}

/** The answer a turn is settled with: the provider that gave it (the cache's name for a hit). */
export interface Settled {
  response: Message;
  provider: Pick<Provider, "name" | "kind">;
  cached: boolean;
}

/** One turn as the steps see it; each step may change `request` (and must then drop `body`). */
export interface Turn {
  readonly ctx: TurnContext;
  /** The request as the client sent it. */
  readonly client: MessagesRequest;
  /** The request as it goes on: steps may replace it. */
  request: MessagesRequest;
  /** The client's bytes while `request` is still the client's, else undefined. */
  body: string | undefined;
  readonly bodyBytes: number;
  readonly stream: boolean;
  /** The session the client named (session step). */
  namedSession: string | undefined;
  /** The client's session, or one made up for this turn (session step). */
  sessionId: string;
  /** The conversation the client names (its session, and the agent of a subagent; session step). */
  conversation: string | undefined;
  /** Shapes the request of each model call for its route (optimize step); the call step applies it. */
  shape: ((request: MessagesRequest, route: Route, ctx: CallContext) => Promise<MessagesRequest>) | undefined;
  /** What shaping did to the latest call. */
  optimized: OptimizeReport | undefined;
  /** The request the latest call sent upstream, when shaping changed it. */
  sent: MessagesRequest | undefined;
  /** Set by the cache step when the prompt cache is on. */
  cacheKey: PromptKey | undefined;
  /** Where the turn goes (route step); the call step calls it. */
  route: Route | undefined;
  /**
   * Records what the answer cost and gives back what admission reserved (budget step). The tee
   * calls it once: before the answer's last byte, or when the turn ends without an answer.
   */
  settle: ((answer: Settled | undefined) => Spent | undefined) | undefined;
  /** What the turn spent, once settled. */
  spent: Spent | undefined;
  /** Settles once the usage row is committed, when its store commits later (PostgreSQL). */
  acknowledged: Promise<unknown> | undefined;
}

/** A turn as the first step gets it: the client's request, nothing decided yet. */
export function newTurn(client: ClientBody, ctx: TurnContext): Turn {
  return {
    ctx,
    client: client.body,
    request: client.body,
    body: client.text,
    // Measured on the client's bytes: routing never serializes the request to size it.
    bodyBytes: Buffer.byteLength(client.text),
    stream: client.body.stream === true,
    namedSession: undefined,
    sessionId: "",
    conversation: undefined,
    shape: undefined,
    optimized: undefined,
    sent: undefined,
    cacheKey: undefined,
    route: undefined,
    settle: undefined,
    spent: undefined,
    acknowledged: undefined,
  };
}

/** What answers a turn: a provider (through routing) or the prompt cache. */
export type TurnAnswer = { from: "upstream"; answer: Answer } | { from: "cache"; entry: CacheEntry };

/** A step of the pipeline: a name, and one call that may change the turn or answer it. */
export interface Step {
  readonly name: string;
  /** Returns an answer to end the turn here (the steps after it do not run). */
  run(turn: Turn): TurnAnswer | undefined | Promise<TurnAnswer | undefined>;
}

/** One server-sent event of the answer, its `data:` text serialized once. */
export interface Frame {
  type: string;
  data: string;
  /** The whole frame's bytes when an upstream sent exactly them (Anthropic wire): written as they are. */
  bytes?: Uint8Array;
}

/** The pipeline's answer: route facts for the server's headers, the events, or the whole message. */
export interface TurnResult {
  /** Undefined when the prompt cache answered. */
  route: RouteFacts | undefined;
  /** The model the upstream was asked for, where the adapter chose it (MODEL_MAP's, a rule's). */
  upstreamModel: string | undefined;
  /** What the optimize step did to the first call (x-lynkr-optimize). */
  optimized: OptimizeReport | undefined;
  /** Upstream response headers worth passing on (rate-limit state, upstream request id). */
  headers: Record<string, string>;
  cached: boolean;
  /**
   * The answer's events for a streamed turn; never throws: a failure becomes the last, `error`,
   * event. `return()` (the client went away) ends the turn as aborted.
   */
  events: AsyncIterableIterator<Frame>;
  /** The answer for a turn that is not streamed; throws its failure as an AnthropicError. */
  message(): Promise<Message>;
}
