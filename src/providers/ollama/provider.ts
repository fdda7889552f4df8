import { promptTooLongError } from "../../anthropic/errors.ts";
import { countIfNearSliced } from "../../optimize/tokens.ts";
import { logger } from "../../observability/logger.ts";
import { fetchUpstream, readBody } from "../http.ts";
import { anthropicId } from "../event-writer.ts";
import { epoch, type CallContext, type ModelInfo, type Provider, type UpstreamStream } from "../types.ts";
import { upstreamError, upstreamHeaders, type UpstreamSettings } from "../upstream-error.ts";
import { OllamaCapabilityCache } from "./capabilities.ts";
import { toOllamaRequest } from "./request.ts";
import { ollamaEvents } from "./stream.ts";

// Ollama on its native API: POST {endpoint}/api/chat, NDJSON back. What the model can take
// (tools, thinking) comes from /api/show, so requests never carry what Ollama would refuse.

export interface OllamaOptions {
  name: string;
  /** Base URL, e.g. http://localhost:11434. */
  endpoint: string;
  model: string;
  timeoutMs: number;
  keepAlive: string | undefined;
  /** 0 → Ollama's own default. */
  numCtx: number;
  /** The settings behind the calls, named in errors (a 404 on the path). */
  settings?: UpstreamSettings;
}

export function createOllamaProvider(options: OllamaOptions): Provider {
  const upstream = `${options.name} (${options.endpoint})`;
  const chatUrl = `${options.endpoint}/api/chat`;
  const capabilities = new OllamaCapabilityCache({ endpoint: options.endpoint, upstream, timeoutMs: options.timeoutMs, settings: options.settings });
  // Said once per model, not on every request of a long session.
  const warnedNoTools = new Set<string>();

  return {
    name: options.name,
    kind: "ollama",
    model: options.model,
    endpoint: options.endpoint,
    requestUrl: chatUrl,

    async stream(request, ctx: CallContext): Promise<UpstreamStream> {
      const model = ctx.model ?? options.model;
      const caps = await capabilities.get(model, ctx.signal);
      if (!caps.tools && (request.tools?.length ?? 0) > 0 && !warnedNoTools.has(model)) {
        warnedNoTools.add(model);
        logger.warn(`Ollama model ${model} does not take tools; its requests go without them (pull a model with the "tools" capability, e.g. qwen2.5-coder)`, {
          provider: options.name,
          model,
        });
      }
      const body = toOllamaRequest(request, {
        model,
        tools: caps.tools,
        thinking: caps.thinking,
        thinkLevels: caps.thinkLevels,
        keepAlive: options.keepAlive,
        numCtx: options.numCtx > 0 ? options.numCtx : undefined,
      });
      const bodyText = JSON.stringify(body);
      // Ollama silently drops what does not fit its window (num_ctx, at most the model's own);
      // say so instead, in the words Claude Code compacts on.
      const window = options.numCtx > 0 ? options.numCtx : caps.contextLength;
      const estimated = window === undefined ? undefined : await countIfNearSliced(request, Buffer.byteLength(bodyText), window, model);
      if (window !== undefined && estimated !== undefined && estimated >= window) throw promptTooLongError(estimated, window);
      const response = await fetchUpstream({
        upstream,
        url: chatUrl,
        init: { method: "POST", headers: { "content-type": "application/json" }, body: bodyText },
        timeoutMs: options.timeoutMs,
        signal: ctx.signal,
      });
      if (!response.ok) throw await upstreamError(response, upstream, { settings: options.settings, url: chatUrl, model });
      return {
        events: ollamaEvents(readBody(response, upstream, options.timeoutMs, ctx.signal), {
          upstream,
          provider: options.name,
          messageId: anthropicId("msg"),
          model,
        }),
        // Ollama sends no request id of its own.
        headers: upstreamHeaders(response.headers, []),
      };
    },

    async modelLimits(_request, ctx) {
      const model = ctx.model ?? options.model;
      if (options.numCtx > 0) return { model, contextWindow: options.numCtx };
      return { model, contextWindow: (await capabilities.get(model, ctx.signal)).contextLength };
    },

    async supportsTools(ctx) {
      return (await capabilities.get(ctx.model ?? options.model, ctx.signal)).tools;
    },

    async listModels(): Promise<ModelInfo[]> {
      return [{ id: options.model, display_name: `${options.model} (Ollama)`, created_at: epoch }];
    },
  };
}
