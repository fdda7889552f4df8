import { AnthropicError, ApiError, errorTypeForStatus, promptTooLongError } from "../../anthropic/errors.ts";
import type { CountTokensRequest, MessagesRequest, StreamEvent } from "../../anthropic/schema.ts";
import { decodeSse } from "../../anthropic/sse.ts";
import type { ModelMapRule } from "../../config/sections/openai-family.ts";
import { countIfNearSliced, countRequestTokens } from "../../optimize/tokens.ts";
import { fetchUpstream, readBody } from "../http.ts";
import type { CapabilityTable, ModelCapabilities } from "../models/capabilities.ts";
import { epoch, type CallContext, type ModelInfo, type Provider, type UpstreamStream } from "../types.ts";
import { parseErrorBody, parsedUpstreamError, upstreamError, upstreamHeaders, type PromptSizeHint, type UpstreamSettings } from "../upstream-error.ts";
import { certainlyChatChunk } from "./chunk-accepts.ts";
import { chatFlavors } from "./flavors.ts";
import { llamaCppBase, llamaCppPromptTokens } from "./llamacpp-count.ts";
import { SlotAssigner } from "./llamacpp-slots.ts";
import { MessageJsonCache } from "./message-json-cache.ts";
import { toChatRequest, type ChatFlavor, type ChatRequest } from "./request.ts";
import { serializeChatBody } from "./serialize-body.ts";
import { ChatStreamTranslator } from "./stream.ts";
import { ToolSetCache } from "./tool-set-cache.ts";
import { chatChunkSchema, chatCompletionSchema, completionAsChunk, type ChatChunk } from "./wire.ts";

// One adapter for every upstream that speaks OpenAI's Chat Completions: OpenAI and compatible
// servers, Azure OpenAI, OpenRouter, Databricks model serving, llama.cpp. The flavor decides
// only the details that differ (auth header, where the model goes, a few parameters).

export interface OpenAiChatOptions {
  name: string;
  flavor: ChatFlavor;
  /** The model serving requests no model-map rule claims (already MODEL_DEFAULT-resolved). */
  model: string | undefined;
  /** Client-model rules for this provider: a client model containing `pattern` goes to `model`. */
  modelMap: ModelMapRule[];
  /** The chat-completions URL for a model (Azure and Databricks put the model in the URL). */
  url(model: string | undefined): string;
  /** Whether the model is named in the body; false where the URL names it. */
  modelInBody: boolean;
  /** Authentication and attribution headers. */
  headers: Record<string, string>;
  capabilities: CapabilityTable;
  timeoutMs: number;
  midSystem: "keep" | "merge";
  /** llama-server slots to keep conversations on (LLAMACPP_SLOTS); 0: the server picks. */
  slots?: number;
  /** Whether the upstream takes OpenAI's `prompt_cache_key` (OPENAI_PROMPT_CACHE_KEY). */
  promptCacheKey?: boolean;
  /** The settings behind the calls, named in errors (a 404 on the path, a rejected key). */
  settings?: UpstreamSettings;
}

function parseJson(text: string, upstream: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(`upstream ${upstream} sent a chunk that is not JSON: ${text.slice(0, 200)}`);
  }
}

function parseChunk(data: string, upstream: string): ChatChunk {
  const json = parseJson(data, upstream);
  // The schema neither transforms nor adds keys: a chunk it certainly accepts is its own answer.
  if (certainlyChatChunk(json)) return json;
  const parsed = chatChunkSchema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(`upstream ${upstream} sent a chunk that is not a chat completion chunk: ${parsed.error.issues[0]?.message ?? ""}`);
  }
  return parsed.data;
}

/** A count is asked for before a prompt is sent: it must not hold the client up for long. */
const countTimeoutMs = 5_000;

function outputTokens(body: ChatRequest): number {
  return body.max_completion_tokens ?? body.max_tokens ?? 0;
}

function withOutputTokens(body: ChatRequest, tokens: number, serialize: (body: ChatRequest) => Uint8Array): Uint8Array {
  if (body.max_completion_tokens !== undefined) body.max_completion_tokens = tokens;
  else body.max_tokens = tokens;
  return serialize(body);
}

/** Output tokens left by a context-length error that names the prompt's and the output's share. */
function completionRoom(message: string): number | undefined {
  const maximum = /maximum context length is (\d+) tokens/i.exec(message)?.[1];
  const prompt = /\((\d+) in the messages, \d+ in the completion\)/i.exec(message)?.[1];
  if (maximum === undefined || prompt === undefined) return undefined;
  const room = Number(maximum) - Number(prompt);
  return room > 0 ? room : undefined;
}

/** An OpenAI-style SSE body → Anthropic events, each written as soon as its chunk is read. */
export async function* translateChatSse(
  body: AsyncIterable<Uint8Array>,
  translator: ChatStreamTranslator,
  upstream: string,
): AsyncGenerator<StreamEvent> {
  let sawDone = false;
  for await (const frame of decodeSse(body)) {
    if (frame.data === "[DONE]") {
      sawDone = true;
      break;
    }
    if (frame.data.trim() === "") continue;
    yield* translator.push(parseChunk(frame.data, upstream));
  }
  yield* translator.finish(sawDone);
}

export function createOpenAiChatProvider(options: OpenAiChatOptions): Provider {
  const endpoint = options.url(options.model);
  const upstream = `${options.name} (${new URL(endpoint).origin})`;

  function modelFor(requested: string): string | undefined {
    const lower = requested.toLowerCase();
    return options.modelMap.find((rule) => lower.includes(rule.pattern))?.model ?? options.model;
  }

  /** Clamps the output to what fits, and refuses, before any upstream call, a prompt that cannot. */
  async function fitToWindow(
    body: ChatRequest,
    bodyBytes: Uint8Array,
    request: MessagesRequest,
    caps: ModelCapabilities,
    model: string,
    serialize: (body: ChatRequest) => Uint8Array,
  ): Promise<Uint8Array> {
    const window = caps.context_window;
    const maxTokens = outputTokens(body);
    // Counted only near the window, in the model's tokenizer; what slips through is caught by
    // the upstream's own context error (translated below).
    const estimated = window === undefined ? undefined : await countIfNearSliced(request, bodyBytes.length, window - maxTokens, model);
    if (window === undefined || estimated === undefined) return bodyBytes;
    if (estimated >= window) throw promptTooLongError(estimated, window);
    const room = window - estimated;
    return maxTokens <= room ? bodyBytes : withOutputTokens(body, room, serialize);
  }

  // The same on every call: built once, not spread again per request.
  const postHeaders: Readonly<Record<string, string>> = { "content-type": "application/json", accept: "text/event-stream", ...options.headers };

  async function post(url: string, body: Uint8Array, ctx: CallContext): Promise<Response> {
    return fetchUpstream({
      upstream,
      url,
      init: { method: "POST", headers: postHeaders, body },
      timeoutMs: options.timeoutMs,
      signal: ctx.signal,
    });
  }

  async function* jsonEvents(response: Response, translator: ChatStreamTranslator): AsyncGenerator<StreamEvent> {
    const text = await response.text();
    const json = parseJson(text, upstream);
    const completion = chatCompletionSchema.safeParse(json);
    if (!completion.success) {
      // A 200 whose body is an error object (some compatible servers do this).
      const parsed = parseErrorBody(text);
      const status = typeof parsed.details?.code === "number" ? parsed.details.code : 502;
      throw new AnthropicError(errorTypeForStatus(status), parsed.message || `upstream ${upstream} sent an answer lynkr cannot read`, {
        status,
      });
    }
    yield* translator.push(completionAsChunk(completion.data));
    yield* translator.finish(true);
  }

  const traits = chatFlavors[options.flavor];
  const toolSets = new ToolSetCache();
  const messageJson = new MessageJsonCache();
  /**
   * The body as UTF-8 JSON: its tools' serialization reused where they are a set converted
   * before, its messages' where the conversation's last request had them.
   */
  const serializer = (conversation: string | undefined) => (body: ChatRequest) =>
    serializeChatBody(body, { tools: toolSets.jsonOf(body.tools), messages: messageJson.jsonOf(conversation, body.messages) });
  const slots = traits.llamaServer ? new SlotAssigner(options.slots ?? 0, { field: `llamacpp-slot:${options.name}` }) : undefined;

  function translate(request: MessagesRequest, ctx: CallContext) {
    // A routing rule's model (ctx.model) wins over MODEL_MAP and the provider's own.
    const model = ctx.model ?? modelFor(request.model);
    const modelName = model ?? options.name;
    const caps = options.capabilities.for(modelName);
    const slot = slots?.slotFor(ctx.conversation, ctx.conversationState);
    const body = toChatRequest(request, {
      flavor: options.flavor,
      provider: options.name,
      bodyModel: options.modelInBody ? model : undefined,
      model: modelName,
      capabilities: caps,
      midSystem: options.midSystem,
      promptCacheKey: options.promptCacheKey === true,
      ...(ctx.conversation !== undefined ? { conversation: ctx.conversation } : {}),
      ...(slot !== undefined ? { slot } : {}),
      toolSets,
    });
    return { body, model, modelName, caps };
  }

  /** llama-server's own count of the prompt (its template and vocabulary); undefined when it cannot say. */
  async function serverCount(request: CountTokensRequest, ctx: CallContext): Promise<{ input_tokens: number } | undefined> {
    // Counting is no turn of the conversation: it takes no slot.
    const { body, model } = translate({ ...request, max_tokens: request.max_tokens ?? 1 }, { ...ctx, conversation: undefined });
    const tokens = await llamaCppPromptTokens(body, {
      base: llamaCppBase(options.url(model)),
      upstream,
      headers: options.headers,
      timeoutMs: Math.min(options.timeoutMs, countTimeoutMs),
      signal: ctx.signal,
    });
    return tokens === undefined ? undefined : { input_tokens: tokens };
  }

  return {
    name: options.name,
    kind: options.flavor,
    model: options.model,
    endpoint: new URL(endpoint).origin,
    requestUrl: endpoint,

    async stream(request, ctx): Promise<UpstreamStream> {
      const { body, model, modelName, caps } = translate(request, ctx);
      const serialize = serializer(ctx.conversation);
      const bodyBytes = await fitToWindow(body, serialize(body), request, caps, modelName, serialize);
      const hint: PromptSizeHint = { estimatedTokens: () => countRequestTokens(request, modelName), contextWindow: caps.context_window };
      const url = options.url(model);
      const errorContext = { hint, settings: options.settings, url, model: modelName };
      let response = await post(url, bodyBytes, ctx);
      if (response.status === 400) {
        // "…you requested 130000 tokens (114000 in the messages, 16000 in the completion)": the
        // prompt fits, the output asked for does not. One re-send with the output that fits.
        const parsed = parseErrorBody(await response.text().catch(() => ""));
        const room = completionRoom(parsed.message);
        if (room === undefined || room >= outputTokens(body)) throw parsedUpstreamError(response, parsed, upstream, errorContext);
        response = await post(url, withOutputTokens(body, room, serialize), ctx);
      }
      if (!response.ok) throw await upstreamError(response, upstream, errorContext);
      const headers = upstreamHeaders(response.headers, ["x-request-id", "apim-request-id"]);
      const translator = new ChatStreamTranslator({ provider: options.name, model: modelName, stopSequences: request.stop_sequences });
      const contentType = response.headers.get("content-type") ?? "";
      // Always asked for a stream; a server that ignored that answered with one completion.
      const json = contentType.includes("json") && !contentType.includes("event-stream");
      const events = json
        ? jsonEvents(response, translator)
        : translateChatSse(readBody(response, upstream, options.timeoutMs, ctx.signal), translator, upstream);
      return { events, headers, ...(model ? { model } : {}) };
    },

    // Only llama-server counts for itself; elsewhere lynkr counts (and warms its tokenizer at start).
    ...(traits.llamaServer ? { countTokens: serverCount } : {}),

    async modelLimits(request, ctx) {
      const model = ctx.model ?? modelFor(request.model) ?? options.name;
      return { model, contextWindow: options.capabilities.for(model).context_window };
    },

    async listModels(): Promise<ModelInfo[]> {
      const ids = [options.model ?? options.name, ...options.modelMap.map((rule) => rule.model)];
      return [...new Set(ids)].map((id) => {
        const caps = options.capabilities.for(id);
        const info: ModelInfo = { id, display_name: `${id} (${options.name})`, created_at: epoch, max_output_tokens: caps.max_output_tokens };
        if (caps.context_window !== undefined) info.context_window = caps.context_window;
        return info;
      });
    },
  };
}
