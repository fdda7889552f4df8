import { AnthropicError, ApiError, errorTypeForStatus, promptTooLongError } from "../../anthropic/errors.ts";
import type { MessagesRequest, StreamEvent } from "../../anthropic/schema.ts";
import { decodeSse } from "../../anthropic/sse.ts";
import type { ModelMapRule } from "../../config/sections/openai-family.ts";
import { countRequestTokens } from "../../optimize/tokens.ts";
import { fetchUpstream, readBody } from "../http.ts";
import type { CapabilityTable, ModelCapabilities } from "../models/capabilities.ts";
import type { CallContext, ModelInfo, Provider, UpstreamStream } from "../types.ts";
import { parseErrorBody, retryHeaders, upstreamError, type PromptSizeHint } from "../upstream-error.ts";
import { toChatRequest, type ChatFlavor, type ChatRequest } from "./request.ts";
import { ChatStreamTranslator } from "./stream.ts";
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
}

const epoch = new Date(0).toISOString();

function parseJson(text: string, upstream: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(`upstream ${upstream} sent a chunk that is not JSON: ${text.slice(0, 200)}`);
  }
}

function parseChunk(data: string, upstream: string): ChatChunk {
  const parsed = chatChunkSchema.safeParse(parseJson(data, upstream));
  if (!parsed.success) {
    throw new ApiError(`upstream ${upstream} sent a chunk that is not a chat completion chunk: ${parsed.error.issues[0]?.message ?? ""}`);
  }
  return parsed.data;
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
  function fitToWindow(body: ChatRequest, bodyText: string, request: MessagesRequest, caps: ModelCapabilities): string {
    const window = caps.context_window;
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? 0;
    // A token is at least one byte: a body smaller than the window cannot overflow it.
    if (window === undefined || Buffer.byteLength(bodyText) + maxTokens <= window) return bodyText;
    const estimated = countRequestTokens(request);
    if (estimated >= window) throw promptTooLongError(estimated, window);
    const room = window - estimated;
    if (maxTokens <= room) return bodyText;
    if (body.max_completion_tokens !== undefined) body.max_completion_tokens = room;
    else body.max_tokens = room;
    return JSON.stringify(body);
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

  return {
    name: options.name,
    kind: options.flavor,
    model: options.model,
    endpoint: new URL(endpoint).origin,

    async stream(request, ctx): Promise<UpstreamStream> {
      const model = modelFor(request.model);
      const modelName = model ?? options.name;
      const caps = options.capabilities.for(modelName);
      const body = toChatRequest(request, {
        flavor: options.flavor,
        provider: options.name,
        bodyModel: options.modelInBody ? model : undefined,
        model: modelName,
        capabilities: caps,
        midSystem: options.midSystem,
      });
      const bodyText = fitToWindow(body, JSON.stringify(body), request, caps);
      const hint: PromptSizeHint = { estimatedTokens: () => countRequestTokens(request), contextWindow: caps.context_window };
      const response = await fetchUpstream({
        upstream,
        url: options.url(model),
        init: {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream", ...options.headers },
          body: bodyText,
        },
        timeoutMs: options.timeoutMs,
        signal: ctx.signal,
      });
      if (!response.ok) throw await upstreamError(response, upstream, hint);
      const headers = retryHeaders(response.headers);
      const upstreamId = response.headers.get("x-request-id") ?? response.headers.get("apim-request-id");
      if (upstreamId) headers["x-upstream-request-id"] = upstreamId;
      const translator = new ChatStreamTranslator({ provider: options.name, model: modelName, stopSequences: request.stop_sequences });
      const contentType = response.headers.get("content-type") ?? "";
      // Always asked for a stream; a server that ignored that answered with one completion.
      const json = contentType.includes("json") && !contentType.includes("event-stream");
      const events = json
        ? jsonEvents(response, translator)
        : translateChatSse(readBody(response, upstream, options.timeoutMs, ctx.signal), translator, upstream);
      return { events, headers };
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
