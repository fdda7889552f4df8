import type { ChatCompletionFunctionTool, ChatCompletionMessageParam, ChatCompletionToolChoiceOption } from "openai/resources/chat/completions";
import type { MessagesRequest } from "../../anthropic/schema.ts";
import type { ModelCapabilities } from "../models/capabilities.ts";
import { convertEndUser } from "./convert-end-user.ts";
import { convertReasoningEffort, type ReasoningEffort } from "./convert-reasoning-effort.ts";
import { convertToOpenAiChatMessages } from "./convert-to-openai-chat-messages.ts";
import { chatFlavors, type ChatFlavor } from "./flavors.ts";
import { prepareTools } from "./prepare-tools.ts";
import type { ToolSetCache } from "./tool-set-cache.ts";

// Anthropic Messages request → OpenAI Chat Completions request: a pure function of the request,
// assembled from one conversion per concern (messages, tools, reasoning, end user). Where
// flavors differ, the flavor's traits (flavors.ts) decide, never its name.

export type { ChatFlavor } from "./flavors.ts";
export type { ReasoningEffort } from "./convert-reasoning-effort.ts";

export interface ChatRequest {
  model?: string;
  messages: ChatCompletionMessageParam[];
  tools?: readonly ChatCompletionFunctionTool[];
  tool_choice?: ChatCompletionToolChoiceOption;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string[];
  user?: string;
  reasoning_effort?: ReasoningEffort;
  /** OpenRouter's unified reasoning parameter. */
  reasoning?: { effort: ReasoningEffort };
  stream: true;
  stream_options?: { include_usage: true };
  /** OpenAI's routing hint for its prefix cache: one conversation, one cache machine. */
  prompt_cache_key?: string;
  /** llama-server: reuse the slot's KV cache for the prompt's unchanged prefix. */
  cache_prompt?: boolean;
  /** llama-server: the slot that holds this conversation's cache. */
  id_slot?: number;
}

export interface TranslationOptions {
  flavor: ChatFlavor;
  /** Provider name, for error messages. */
  provider: string;
  /** The upstream model; absent where the URL names it (Azure deployments, Databricks endpoints). */
  bodyModel: string | undefined;
  /** The model's name for error messages and capability lookups. */
  model: string;
  capabilities: ModelCapabilities;
  /** role:"system" messages after the start: kept in place, or merged into the user turn before them. */
  midSystem: "keep" | "merge";
  /** The conversation (session and agent), for the upstream's prefix cache; absent when the client names none. */
  conversation?: string;
  /** Whether the upstream takes OpenAI's `prompt_cache_key` (OPENAI_PROMPT_CACHE_KEY). */
  promptCacheKey?: boolean;
  /** llama-server's slot for the conversation, when slots are assigned (LLAMACPP_SLOTS). */
  slot?: number;
  /** Tool sets converted before (the provider's), reused when the request's tools equal one. */
  toolSets?: ToolSetCache;
}

export function toChatRequest(request: MessagesRequest, options: TranslationOptions): ChatRequest {
  const traits = chatFlavors[options.flavor];
  const caps = options.capabilities;
  const target = { provider: options.provider, model: options.model, capabilities: caps };
  const messages = convertToOpenAiChatMessages(request, { ...target, cacheMarks: traits.cacheMarks && caps.cache_control, midSystem: options.midSystem });
  const body: ChatRequest = { messages, stream: true };
  if (options.bodyModel !== undefined) body.model = options.bodyModel;
  Object.assign(body, prepareTools(request, target, options.toolSets));

  const maxTokens = Math.min(request.max_tokens, caps.max_output_tokens);
  // OpenAI's reasoning models take max_completion_tokens and reject sampling parameters.
  const openAiReasoning = caps.reasoning && traits.openAiReasoningModels;
  if (openAiReasoning) body.max_completion_tokens = maxTokens;
  else body.max_tokens = maxTokens;
  if (!openAiReasoning) {
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.top_p !== undefined) body.top_p = request.top_p;
  }
  if (request.top_k !== undefined && traits.topK) body.top_k = request.top_k;
  if (request.stop_sequences && request.stop_sequences.length > 0) body.stop = request.stop_sequences;
  if (request.metadata?.user_id) body.user = convertEndUser(request.metadata.user_id);
  if (caps.reasoning) {
    const effort = convertReasoningEffort(request);
    if (effort !== undefined) {
      if (traits.reasoningParameter === "reasoning") body.reasoning = { effort };
      else body.reasoning_effort = effort;
    }
  }
  if (traits.streamOptions) body.stream_options = { include_usage: true };
  // Same 64-character limit as `user`: a longer conversation id goes as its hash.
  if (options.promptCacheKey === true && options.conversation !== undefined) body.prompt_cache_key = convertEndUser(options.conversation);
  if (traits.llamaServer) {
    body.cache_prompt = true;
    if (options.slot !== undefined) body.id_slot = options.slot;
  }
  return body;
}
