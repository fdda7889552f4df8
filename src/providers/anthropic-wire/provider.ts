import { ApiError } from "../../anthropic/errors.ts";
import { messageSchema, type CountTokensRequest, type MessagesRequest, type StreamEvent } from "../../anthropic/schema.ts";
import { messageToEvents } from "../../anthropic/message-events.ts";
import { fetchUpstream, readBody } from "../http.ts";
import { epoch, rawData, rawFrame, type CallContext, type ForwardedEvent, type ModelInfo, type Provider, type UpstreamStream } from "../types.ts";
import { upstreamError, upstreamHeaders, type UpstreamErrorContext, type UpstreamSettings } from "../upstream-error.ts";
import { stripForeignThinking } from "./foreign-thinking.ts";
import { anthropicSseFrames } from "./sse-frames.ts";

// Anthropic's own wire format, for api.anthropic.com, Azure-hosted Anthropic and any
// Anthropic-compatible endpoint: the request goes out as the client sent it, the events come
// back as the upstream sent them.

export interface AnthropicWireOptions {
  name: string;
  kind: "anthropic" | "azure-anthropic";
  /** URL of the messages endpoint, e.g. https://api.anthropic.com/v1/messages. */
  messagesUrl: string;
  apiKey: string | undefined;
  /**
   * Whether a client's own credential may go to this upstream when it has no key of its own:
   * only for the host the credential was meant for (see anthropicWireOptions).
   */
  forwardClientCredentials: boolean;
  /** Sent when the client sends none. */
  anthropicVersion: string;
  model: string | undefined;
  timeoutMs: number;
  /** The settings behind the calls, named in errors (a 404 on the path, a rejected key). */
  settings?: UpstreamSettings;
}

// Client headers that Anthropic-wire upstreams act on (version, betas, subscription tokens,
// Claude Code's identity) and that are safe to pass on; the client's version wins over ours.
const passedHeaders = [
  "anthropic-version",
  "anthropic-beta",
  "anthropic-dangerous-direct-browser-access",
  "x-app",
  "user-agent",
  "x-claude-code-session-id",
  "x-claude-code-agent-id",
];

/** The version and key lynkr sends of its own (what `lynkr doctor` probes with, too). */
export function configuredHeaders(options: AnthropicWireOptions): Record<string, string> {
  return { "anthropic-version": options.anthropicVersion, ...(options.apiKey ? { "x-api-key": options.apiKey } : {}) };
}

export function createAnthropicWireProvider(options: AnthropicWireOptions): Provider {
  const upstream = `${options.name} (${new URL(options.messagesUrl).origin})`;
  const baseUrl = options.messagesUrl.replace(/\/v1\/messages$/, "");

  const ownHeaders = configuredHeaders(options);
  const forwardsCredentials = !options.apiKey && options.forwardClientCredentials;

  /** One plain object per call (names already lower-case), not a Headers built from a spread copy. */
  function headersFor(ctx: CallContext, accept = "application/json"): Record<string, string> {
    const headers: Record<string, string> = { "content-type": "application/json", accept, ...ownHeaders };
    for (const name of passedHeaders) {
      const value = ctx.clientHeaders.get(name);
      if (value !== null) headers[name] = value;
    }
    if (forwardsCredentials) {
      // No key of our own: the client's credentials (its API key or subscription token) go on,
      // to Anthropic's own API or a host the operator named for them; never to any other host.
      const apiKey = ctx.clientHeaders.get("x-api-key");
      const authorization = ctx.clientHeaders.get("authorization");
      if (apiKey) headers["x-api-key"] = apiKey;
      if (authorization) headers.authorization = authorization;
    }
    return headers;
  }

  function clientCredential(ctx: CallContext): string | undefined {
    if (options.apiKey || !options.forwardClientCredentials) return undefined;
    const apiKey = ctx.clientHeaders.get("x-api-key");
    const authorization = ctx.clientHeaders.get("authorization");
    return apiKey || authorization ? `${apiKey ?? ""}\n${authorization ?? ""}` : undefined;
  }

  function bodyFor(request: MessagesRequest | CountTokensRequest, stream: boolean | undefined, ctx: CallContext): string {
    const model = ctx.model ?? options.model;
    const messages = stripForeignThinking(request.messages);
    const unchanged =
      (model === undefined || model === request.model) &&
      messages === request.messages &&
      (stream === undefined || request.stream === stream);
    if (unchanged && ctx.clientBody !== undefined) return ctx.clientBody;
    const out: Record<string, unknown> = { ...request, messages };
    if (model !== undefined) out.model = model;
    if (stream !== undefined) out.stream = stream;
    return JSON.stringify(out);
  }

  /** Whose key the upstream saw: lynkr's, or (without one) the client's own, for its 401 message. */
  function errorContext(ctx: CallContext, url: string, model: string | undefined): UpstreamErrorContext {
    const settings = options.settings;
    if (!settings || options.apiKey) return { settings, url, model };
    const clientKey = ctx.clientHeaders.has("x-api-key") || ctx.clientHeaders.has("authorization");
    return { settings: { ...settings, keySource: clientKey ? "client" : "none" }, url, model };
  }

  async function* sseEvents(response: Response, ctx: CallContext): AsyncGenerator<StreamEvent> {
    for await (const frame of anthropicSseFrames(readBody(response, upstream, options.timeoutMs, ctx.signal))) {
      let event: ForwardedEvent;
      try {
        event = JSON.parse(frame.data) as ForwardedEvent;
      } catch {
        throw new ApiError(`upstream ${upstream} sent an event that is not JSON`);
      }
      if (typeof event !== "object" || event === null || typeof event.type !== "string") {
        throw new ApiError(`upstream ${upstream} sent an event without a type`);
      }
      event[rawData] = frame.data;
      // The upstream's frame is the one lynkr would write for this event: it goes out as it came.
      if (frame.raw && frame.event === event.type) event[rawFrame] = frame.raw;
      yield event;
    }
  }

  return {
    name: options.name,
    kind: options.kind,
    model: options.model,
    endpoint: baseUrl,
    clientCredential,
    requestUrl: options.messagesUrl,

    async stream(request, ctx): Promise<UpstreamStream> {
      // Always a stream upstream: one path, and a non-streaming client gets the accumulated events.
      const url = options.messagesUrl + ctx.search;
      const response = await fetchUpstream({
        upstream,
        url,
        init: { method: "POST", headers: headersFor(ctx, "text/event-stream"), body: bodyFor(request, true, ctx) },
        timeoutMs: options.timeoutMs,
        signal: ctx.signal,
      });
      if (!response.ok) throw await upstreamError(response, upstream, errorContext(ctx, options.messagesUrl, ctx.model ?? options.model ?? request.model));
      const headers = upstreamHeaders(response.headers, ["request-id"]);
      const contentType = response.headers.get("content-type") ?? "";
      if (contentType.includes("text/event-stream")) return { events: sseEvents(response, ctx), headers };
      // An Anthropic-compatible server that ignored `stream: true` and answered with a Message.
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const message = messageSchema.safeParse(json);
      if (!message.success) {
        throw new ApiError(`upstream ${upstream} answered ${contentType || "without a content type"} that is neither an event stream nor a Message: ${text.slice(0, 200)}`, { status: 502 });
      }
      return { events: messageToEvents(message.data), headers };
    },

    async countTokens(request, ctx) {
      const response = await fetchUpstream({
        upstream,
        url: `${options.messagesUrl}/count_tokens${ctx.search}`,
        init: { method: "POST", headers: headersFor(ctx), body: bodyFor(request, undefined, ctx) },
        timeoutMs: options.timeoutMs,
        signal: ctx.signal,
      });
      // Many Anthropic-compatible servers have no count_tokens: count locally instead.
      if (response.status === 404 || response.status === 405) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) throw await upstreamError(response, upstream);
      return (await response.json()) as { input_tokens: number };
    },

    async listModels(ctx): Promise<ModelInfo[]> {
      if (options.model) {
        return [{ id: options.model, display_name: options.model, created_at: epoch }];
      }
      const response = await fetchUpstream({
        upstream,
        url: `${baseUrl}/v1/models?limit=1000`,
        init: { method: "GET", headers: headersFor(ctx) },
        timeoutMs: options.timeoutMs,
        signal: ctx.signal,
      });
      if (!response.ok) throw await upstreamError(response, upstream);
      const body = (await response.json()) as { data?: ModelInfo[] };
      return body.data ?? [];
    },
  };
}
