import type { TranslatedProviderName } from "../../config/sections/openai-family.ts";
import type { AddressSettings } from "../descriptor.ts";

// What differs between the upstreams that speak OpenAI's Chat Completions, as data: the
// translators read these traits and never test a flavor's name.

export type ChatFlavor = TranslatedProviderName;

export interface ChatFlavorTraits extends AddressSettings {
  /** Anthropic's cache_control breakpoints go on (OpenRouter hands them to Claude and Gemini). */
  cacheMarks: boolean;
  /** Reasoning models take max_completion_tokens and refuse sampling parameters (OpenAI's own API). */
  openAiReasoningModels: boolean;
  /** The upstream takes `top_k`. */
  topK: boolean;
  /** Where a reasoning effort goes: OpenAI's `reasoning_effort`, or OpenRouter's `reasoning: {effort}`. */
  reasoningParameter: "reasoning_effort" | "reasoning";
  /** `stream_options.include_usage` is asked for (Databricks rejects parameters it does not know and reports usage anyway). */
  streamOptions: boolean;
  /** llama-server's own prompt cache: `cache_prompt`, a sticky `id_slot`, and counts by its /apply-template and /tokenize. */
  llamaServer: boolean;
}

export const chatFlavors: Record<ChatFlavor, ChatFlavorTraits> = {
  openai: {
    cacheMarks: false,
    openAiReasoningModels: true,
    topK: false,
    reasoningParameter: "reasoning_effort",
    streamOptions: true,
    llamaServer: false,
    addressVariable: "OPENAI_ENDPOINT",
    addressForm: "the full chat completions URL, e.g. http://host/v1/chat/completions",
    keyVariable: "OPENAI_API_KEY",
  },
  "azure-openai": {
    cacheMarks: false,
    openAiReasoningModels: true,
    topK: false,
    reasoningParameter: "reasoning_effort",
    streamOptions: true,
    llamaServer: false,
    addressVariable: "AZURE_OPENAI_ENDPOINT",
    addressForm: "the resource URL (https://NAME.openai.azure.com) or a full …/chat/completions URL",
    keyVariable: "AZURE_OPENAI_API_KEY",
  },
  openrouter: {
    cacheMarks: true,
    openAiReasoningModels: false,
    topK: true,
    reasoningParameter: "reasoning",
    streamOptions: true,
    llamaServer: false,
    addressVariable: "OPENROUTER_ENDPOINT",
    addressForm: "the full chat completions URL, https://openrouter.ai/api/v1/chat/completions",
    keyVariable: "OPENROUTER_API_KEY",
  },
  databricks: {
    cacheMarks: false,
    openAiReasoningModels: false,
    topK: false,
    reasoningParameter: "reasoning_effort",
    streamOptions: false,
    llamaServer: false,
    addressVariable: "DATABRICKS_API_BASE",
    addressForm: "the workspace URL (https://adb-….azuredatabricks.net), with DATABRICKS_ENDPOINT_PATH the serving endpoint's path",
    keyVariable: "DATABRICKS_API_KEY",
  },
  llamacpp: {
    cacheMarks: false,
    openAiReasoningModels: false,
    topK: true,
    reasoningParameter: "reasoning_effort",
    streamOptions: true,
    llamaServer: true,
    addressVariable: "LLAMACPP_ENDPOINT",
    addressForm: "llama-server's base URL, e.g. http://localhost:8080 (lynkr adds /v1/chat/completions)",
    keyVariable: "LLAMACPP_API_KEY",
  },
};
