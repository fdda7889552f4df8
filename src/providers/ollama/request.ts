import type { MessagesRequest } from "../../anthropic/schema.ts";
import type { FunctionTool } from "../tool-schema.ts";
import { convertKeepAlive, convertOptions, type OllamaOptions } from "./convert-options.ts";
import { convertThinking } from "./convert-thinking.ts";
import { convertToOllamaMessages, type OllamaMessage } from "./convert-to-ollama-messages.ts";
import { prepareTools } from "./prepare-tools.ts";

// Anthropic Messages request → Ollama /api/chat request, assembled from one conversion per
// concern (messages, tools, thinking, options).

export type { OllamaMessage, OllamaToolCall } from "./convert-to-ollama-messages.ts";
export type { OllamaOptions } from "./convert-options.ts";

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  tools?: FunctionTool[];
  stream: true;
  think?: boolean | string;
  keep_alive?: string | number;
  options: OllamaOptions;
}

export interface OllamaTranslation {
  model: string;
  /** Whether the model takes tools (from /api/show); tools are left out when it does not. */
  tools: boolean;
  /** Whether the model can think; `think` is only sent to models that can. */
  thinking: boolean;
  /** Named thinking levels the model takes (e.g. gpt-oss: low, medium, high), if any. */
  thinkLevels: string[];
  keepAlive: string | undefined;
  numCtx: number | undefined;
}

export function toOllamaRequest(request: MessagesRequest, options: OllamaTranslation): OllamaChatRequest {
  const tools = options.tools ? prepareTools(request) : undefined;
  const think = convertThinking(request, options);
  return {
    model: options.model,
    messages: convertToOllamaMessages(request),
    ...(tools && tools.length > 0 ? { tools } : {}),
    stream: true,
    ...(think !== undefined ? { think } : {}),
    ...(options.keepAlive !== undefined ? { keep_alive: convertKeepAlive(options.keepAlive) } : {}),
    options: convertOptions(request, options.numCtx),
  };
}
