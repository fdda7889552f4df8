import { z } from "zod";

// What OpenAI-compatible upstreams send back, checked for exactly the fields translation reads.
// Every field is optional and nullable: real providers omit, null or repeat fields freely
// (Azure's first chunk has no choices; Alibaba repeats `id:""`; llama.cpp adds `timings`).

const functionDelta = z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() });

const toolCallDelta = z.looseObject({
  index: z.number().int().nullish(),
  id: z.string().nullish(),
  function: functionDelta.nullish(),
});

const textPart = z.looseObject({ type: z.string(), text: z.string().nullish() });

// Mistral streams `content` as typed parts: {type:"thinking", thinking:[{type:"text",text}]} and
// {type:"text", text}; Databricks answers reasoning models with {type:"reasoning", summary:[…]}.
const contentPart = z.looseObject({
  type: z.string(),
  text: z.string().nullish(),
  thinking: z.union([z.string(), z.array(textPart)]).nullish(),
  summary: z.array(textPart).nullish(),
});

const chatDeltaSchema = z.looseObject({
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
  refusal: z.string().nullish(),
  tool_calls: z.array(toolCallDelta).nullish(),
  function_call: functionDelta.nullish(),
});

const chatUsageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish(), cache_write_tokens: z.number().nullish() }).nullish(),
  prompt_cache_hit_tokens: z.number().nullish(),
});

const timingsSchema = z.looseObject({
  prompt_n: z.number().nullish(),
  cache_n: z.number().nullish(),
  predicted_n: z.number().nullish(),
});

const upstreamErrorSchema = z.looseObject({
  message: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
});

const choiceBase = {
  index: z.number().int().nullish(),
  finish_reason: z.string().nullish(),
  // The stop sequence that ended generation, where servers say it (vLLM, SGLang, Azure AI Foundry).
  stop_reason: z.union([z.string(), z.number()]).nullish(),
  matched_stop: z.union([z.string(), z.number()]).nullish(),
};

export const chatChunkSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z.array(z.looseObject({ ...choiceBase, delta: chatDeltaSchema.nullish() })).nullish(),
  usage: chatUsageSchema.nullish(),
  x_groq: z.looseObject({ usage: chatUsageSchema.nullish() }).nullish(),
  timings: timingsSchema.nullish(),
  error: upstreamErrorSchema.nullish(),
});

const toolCall = z.looseObject({ id: z.string().nullish(), function: functionDelta.nullish() });

/** A non-streaming chat.completion; translated by reading its message as one big delta. */
export const chatCompletionSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      ...choiceBase,
      message: chatDeltaSchema.extend({ tool_calls: z.array(toolCall).nullish() }).nullish(),
    }),
  ),
  usage: chatUsageSchema.nullish(),
  timings: timingsSchema.nullish(),
});

export type ChatChunk = z.infer<typeof chatChunkSchema>;
export type ChatDelta = z.infer<typeof chatDeltaSchema>;
export type ChatUsage = z.infer<typeof chatUsageSchema>;
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

/** The completion as the single chunk that would have streamed it. */
export function completionAsChunk(completion: ChatCompletion): ChatChunk {
  return {
    id: completion.id,
    model: completion.model,
    usage: completion.usage,
    timings: completion.timings,
    choices: completion.choices.map(({ message, ...choice }) => ({
      ...choice,
      delta: message
        ? {
            ...message,
            tool_calls: message.tool_calls?.map((call, index) => ({ ...call, index })),
          }
        : null,
    })),
  };
}
