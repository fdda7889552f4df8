import type { ConversationRecord } from "../shared-state/ports.ts";
import type { CountTokensRequest, MessagesRequest, StreamEvent } from "../anthropic/schema.ts";

export interface CallContext {
  /** Aborted when the client disconnects or the gateway gives up; passed down to fetch. */
  signal: AbortSignal;
  requestId: string;
  /** The client's request headers, for the few that Anthropic-wire upstreams need to see. */
  clientHeaders: Headers;
  /** The client's query string, e.g. "?beta=true", kept for Anthropic-wire upstreams. */
  search: string;
  /**
   * The body text exactly as the client sent it, while the request is unchanged: an
   * Anthropic-wire upstream gets these bytes instead of a re-serialization (~0.1 ms saved on a
   * Claude Code request).
   */
  clientBody?: string;
  /** The model routing chose for this call (a config-file rule); wins over the provider's own. */
  model?: string;
  /**
   * The conversation the request belongs to (Claude Code's session, and the agent for a
   * subagent): upstream prefix caches are steered by it (OpenAI's prompt_cache_key, llama.cpp's
   * slot). Absent when the client names no session.
   */
  conversation?: string;
  /**
   * The conversation's record shared by replicas (LYNKR_REDIS_URL), read before the first call
   * (optimize step): where llama.cpp's slot for it is kept. Absent: this process's state only.
   */
  conversationState?: ConversationRecord;
}

/** An upstream answer that has been accepted (2xx): its events, translated to Anthropic's form. */
export interface UpstreamStream {
  events: AsyncIterable<StreamEvent>;
  /** Upstream response headers worth returning to the client (rate-limit state, upstream request id). */
  headers: Record<string, string>;
  /** The model named in the upstream request, when the adapter chose it (MODEL_MAP, a rule, its own). */
  model?: string;
}

export interface ModelInfo {
  id: string;
  display_name: string;
  created_at: string;
  /** Limits, where known, so clients and `GET /v1/models` can show them. */
  context_window?: number;
  max_output_tokens?: number;
}

export interface ModelLimits {
  model: string;
  contextWindow: number | undefined;
}

/** `created_at` for a model whose date is unknown. */
export const epoch = new Date(0).toISOString();

export interface Provider {
  /** The name routing and logs use, e.g. "anthropic" or a named instance from the config file. */
  readonly name: string;
  readonly kind: string;
  /** The model this provider serves, or undefined when the client's model is passed through. */
  readonly model: string | undefined;
  /** The upstream's address, for logs and error messages (never with credentials). */
  readonly endpoint: string;
  /** The full URL requests are sent to (start-up banner), when it is fixed. */
  readonly requestUrl?: string;
  /**
   * Sends the request. Resolves once the upstream accepted it; rejects with an AnthropicError
   * before any byte reached the client otherwise. Events fail with an AnthropicError mid-stream.
   */
  stream(request: MessagesRequest, ctx: CallContext): Promise<UpstreamStream>;
  /**
   * The client's own credential the call goes out with, when the provider passes it through
   * (undefined when it uses a key of its own): routing keeps one client's faults, such as its
   * key's 429s, on a breaker of that credential's, away from everyone else's.
   */
  clientCredential?(ctx: CallContext): string | undefined;
  /** The upstream's own token count; absent or `undefined` result → counted locally. */
  countTokens?(request: CountTokensRequest, ctx: CallContext): Promise<{ input_tokens: number } | undefined>;
  /**
   * Whether the model (`ctx.model`, else the provider's own) takes tools, where the provider can
   * find out; routing skips a provider that cannot serve a request's tools. Absent → yes.
   */
  supportsTools?(ctx: CallContext): Promise<boolean>;
  /**
   * The model a request would reach (`ctx.model`, else the provider's own mapping) and its
   * context window where known; the optimize step sizes its work by it. Absent: unknown.
   */
  modelLimits?(request: Pick<MessagesRequest, "model">, ctx: CallContext): Promise<ModelLimits>;
  /** Models this provider offers, in Anthropic's list entry shape. */
  listModels(ctx: CallContext): Promise<ModelInfo[]>;
}

/** Property carrying the upstream's original `data:` text, so Anthropic-wire events go out byte-identical. */
export const rawData: unique symbol = Symbol("rawData");
/**
 * Property carrying the upstream's whole SSE frame as received, when it is exactly the frame the
 * server would write for the event (`event: <type>\ndata: <rawData>\n\n`): it is written as is.
 */
export const rawFrame: unique symbol = Symbol("rawFrame");
export type ForwardedEvent = StreamEvent & { [rawData]?: string; [rawFrame]?: Uint8Array };
