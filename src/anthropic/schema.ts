import { z } from "zod";

// Schemas of Anthropic's Messages API: the internal form of every request and response.
// Objects are loose: fields this gateway does not know (new betas, cache_control, extra tool
// keys) must survive untouched on their way to Anthropic-wire upstreams.

const cacheControl = z.looseObject({ type: z.string() }).optional();

export const textBlockSchema = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: cacheControl,
});

/**
 * An object of a type this gateway does not translate (a newer block or source type): accepted
 * and carried as it came. Its schema refuses the known types, so `isKnown` can trust `type`.
 */
function unknownTyped(known: readonly string[]) {
  return z.looseObject({
    type: z.string().refine((type) => !known.includes(type), { error: (issue) => `malformed ${String(issue.input)} object: a field its type requires is missing or of the wrong type` }),
  });
}

/** Narrows an open union to its known members, whose fields are then typed by `type` without casts. */
export function isKnown<T extends { type: string }, K extends string>(value: T, known: readonly K[]): value is Extract<T, { type: K }> {
  return (known as readonly string[]).includes(value.type);
}

const base64Source = z.looseObject({
  type: z.literal("base64"),
  media_type: z.string(),
  data: z.string(),
});
const urlSource = z.looseObject({ type: z.literal("url"), url: z.string() });
const textSource = z.looseObject({ type: z.literal("text"), data: z.string() });

export const imageSourceTypes = ["base64", "url"] as const;
export const imageBlockSchema = z.looseObject({
  type: z.literal("image"),
  source: z.union([z.discriminatedUnion("type", [base64Source, urlSource]), unknownTyped(imageSourceTypes)]),
  cache_control: cacheControl,
});

export const documentSourceTypes = ["base64", "text"] as const;
export const documentBlockSchema = z.looseObject({
  type: z.literal("document"),
  source: z.union([z.discriminatedUnion("type", [base64Source, textSource]), unknownTyped(documentSourceTypes)]),
  title: z.string().nullish(),
  cache_control: cacheControl,
});

export const toolUseBlockSchema = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
  cache_control: cacheControl,
});

// What a tool result's content may hold: text, images, documents, and blocks such as Claude
// Code's tool_reference (carried as opaque typed objects).
export const toolResultContentTypes = ["text", "image", "document"] as const;
const toolResultContentKnown = z.discriminatedUnion("type", [textBlockSchema, imageBlockSchema, documentBlockSchema]);
export const toolResultContentBlockSchema = z.union([toolResultContentKnown, unknownTyped(toolResultContentTypes)]);

export const toolResultBlockSchema = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(toolResultContentBlockSchema)]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});

export const thinkingBlockSchema = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string().optional(),
});

export const redactedThinkingBlockSchema = z.looseObject({
  type: z.literal("redacted_thinking"),
  data: z.string(),
});

/** The block types this gateway translates, discriminated on `type`. */
export const knownContentBlockSchema = z.discriminatedUnion("type", [
  textBlockSchema,
  imageBlockSchema,
  documentBlockSchema,
  toolUseBlockSchema,
  toolResultBlockSchema,
  thinkingBlockSchema,
  redactedThinkingBlockSchema,
]);
export const knownBlockTypes = ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"] as const;

// Anything else (server tool results, tool_reference, search results, future types) is accepted
// and carried as an opaque typed object: the real client sends such blocks, and an
// Anthropic-wire upstream must get them unchanged.
export const contentBlockSchema = z.union([knownContentBlockSchema, unknownTyped(knownBlockTypes)]);

export const messageParamSchema = z.looseObject({
  // Claude Code puts role:"system" messages inside `messages`; they are accepted and kept in place.
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(contentBlockSchema)]),
});

export const toolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  type: z.string().optional(),
});

export const toolChoiceSchema = z.looseObject({
  type: z.enum(["auto", "any", "tool", "none"]),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

export const thinkingConfigSchema = z.looseObject({
  type: z.string(),
  budget_tokens: z.number().int().optional(),
});

/**
 * Longest model name accepted: it becomes a metrics label and a log field. Real ones (Bedrock
 * inference-profile ARNs included) are well under it.
 */
export const maxModelNameLength = 256;

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1).max(maxModelNameLength, { error: `expected a model name of at most ${maxModelNameLength} characters` }),
  max_tokens: z.number().int().positive(),
  messages: z.array(messageParamSchema),
  system: z.union([z.string(), z.array(textBlockSchema)]).optional(),
  stream: z.boolean().optional(),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  thinking: thinkingConfigSchema.optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().int().optional(),
  stop_sequences: z.array(z.string()).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  output_config: z.looseObject({ effort: z.string().optional() }).optional(),
  context_management: z.looseObject({}).optional(),
});

// count_tokens takes the same body minus the generation controls.
export const countTokensRequestSchema = messagesRequestSchema.omit({ max_tokens: true }).extend({
  max_tokens: z.number().int().positive().optional(),
});

export type KnownContentBlock = z.infer<typeof knownContentBlockSchema>;
export type ContentBlockParam = z.infer<typeof contentBlockSchema>;
export type ToolResultContentBlock = z.infer<typeof toolResultContentBlockSchema>;
export type TextBlock = z.infer<typeof textBlockSchema>;
export type ImageBlock = z.infer<typeof imageBlockSchema>;
export type DocumentBlock = z.infer<typeof documentBlockSchema>;
export type ToolResultBlock = z.infer<typeof toolResultBlockSchema>;
export type ToolUseBlock = z.infer<typeof toolUseBlockSchema>;

/** Narrows a block to the translated types. */
export function isKnownBlock<T extends { type: string }>(block: T): block is Extract<T, { type: (typeof knownBlockTypes)[number] }> {
  return isKnown(block, knownBlockTypes);
}
export type MessageParam = z.infer<typeof messageParamSchema>;
export type Tool = z.infer<typeof toolSchema>;
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;

// ---- Responses ----

export const usageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});
export type Usage = z.infer<typeof usageSchema>;

export type StopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | (string & {});

export type ResponseContentBlock =
  | { type: "text"; text: string; [k: string]: unknown }
  | { type: "thinking"; thinking: string; signature: string; [k: string]: unknown }
  | { type: "redacted_thinking"; data: string; [k: string]: unknown }
  | { type: "tool_use"; id: string; name: string; input: unknown; [k: string]: unknown }
  | { type: string; [k: string]: unknown };

export interface Message {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ResponseContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
  [k: string]: unknown;
}

export type ContentDelta =
  | { type: "text_delta"; text: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: "input_json_delta"; partial_json: string }
  | { type: string; [k: string]: unknown };

export type StreamEvent =
  | { type: "message_start"; message: Message }
  | { type: "content_block_start"; index: number; content_block: ResponseContentBlock }
  | { type: "content_block_delta"; index: number; delta: ContentDelta }
  | { type: "content_block_stop"; index: number }
  | {
      type: "message_delta";
      delta: { stop_reason: StopReason | null; stop_sequence?: string | null; [k: string]: unknown };
      usage?: Usage;
    }
  | { type: "message_stop" }
  | { type: "ping" }
  | { type: "error"; error: { type: string; message: string } };

/** A whole Message from an upstream (non-streaming answers), checked for what the gateway relies on. */
export const messageSchema = z.looseObject({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  model: z.string(),
  content: z.array(z.looseObject({ type: z.string() })),
  stop_reason: z.string().nullable(),
  // Some Anthropic-compatible servers leave it out.
  stop_sequence: z.string().nullable().default(null),
  usage: usageSchema,
});
