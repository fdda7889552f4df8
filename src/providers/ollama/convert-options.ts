import type { MessagesRequest } from "../../anthropic/schema.ts";

// Anthropic's generation controls → Ollama's `options` and `keep_alive`.

export interface OllamaOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  num_predict?: number;
  stop?: string[];
  num_ctx?: number;
}

export function convertOptions(request: MessagesRequest, numCtx: number | undefined): OllamaOptions {
  return {
    num_predict: request.max_tokens,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.top_p !== undefined ? { top_p: request.top_p } : {}),
    ...(request.top_k !== undefined ? { top_k: request.top_k } : {}),
    ...(request.stop_sequences && request.stop_sequences.length > 0 ? { stop: request.stop_sequences } : {}),
    ...(numCtx ? { num_ctx: numCtx } : {}),
  };
}

/** OLLAMA_KEEP_ALIVE as Ollama takes it: a bare number of seconds as a number, a duration as a string. */
export function convertKeepAlive(keepAlive: string): string | number {
  return /^-?\d+$/.test(keepAlive) ? Number(keepAlive) : keepAlive;
}
