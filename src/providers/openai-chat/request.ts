import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartText,
  ChatCompletionFunctionTool,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
  ChatCompletionUserMessageParam,
} from "openai/resources/chat/completions";
import { createHash } from "node:crypto";
import { InvalidRequestError } from "../../anthropic/errors.ts";
import type { ContentBlockParam, MessageParam, MessagesRequest, Tool } from "../../anthropic/schema.ts";
import type { ModelCapabilities } from "../models/capabilities.ts";
import type { TranslatedProviderName } from "../../config/sections/openai-family.ts";
import { blockText, toolResultBlocks, toolResultText } from "../content-text.ts";
import { translatedSystemPrompt } from "../system-prompt.ts";
import { functionTool } from "../tool-schema.ts";

// Anthropic Messages request → OpenAI Chat Completions request. The translation is a pure
// function of the request, and each message translates on its own: the same history gives the
// same bytes on every turn, so the upstream's prefix cache keeps hitting. Nothing is hoisted or
// reordered; cache_control, thinking and Anthropic billing metadata are dropped the same way
// every time.

export type ChatFlavor = TranslatedProviderName;
export type ReasoningEffort = "low" | "medium" | "high";

export interface ChatRequest {
  model?: string;
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionFunctionTool[];
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
}

/** Anthropic's cache breakpoint on a part, for backends that hand it on to Claude (OpenRouter). */
type CacheMark = { type: string; [k: string]: unknown };
type Marked<T> = T & { cache_control?: CacheMark };

/** An assistant turn, with the reasoning field DeepSeek-style backends take back. */
type AssistantTurn = ChatCompletionAssistantMessageParam & { reasoning_content?: string };

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
}

function contentText(content: MessageParam["content"]): string {
  return typeof content === "string" ? content : content.map(blockText).join("\n\n");
}

class Translator {
  /** Whether Claude Code's cache_control breakpoints go on (OpenRouter hands them to Claude and Gemini). */
  private readonly marks: boolean;

  constructor(private readonly options: TranslationOptions) {
    this.marks = options.flavor === "openrouter" && options.capabilities.cache_control;
  }

  private mark(block: Record<string, unknown>): CacheMark | undefined {
    const mark = block.cache_control as CacheMark | undefined;
    return this.marks && typeof mark?.type === "string" ? mark : undefined;
  }

  /** Text with the block's breakpoint, as a part when there is one, else as a plain string. */
  private markedText(text: string, mark: CacheMark | undefined): string | Marked<ChatCompletionContentPartText>[] {
    return mark ? [{ type: "text", text, cache_control: mark }] : text;
  }

  private unsupported(what: string): InvalidRequestError {
    return new InvalidRequestError(
      `${what} cannot be sent to model ${this.options.model} on provider ${this.options.provider}; use a model that supports it or set its capabilities in MODEL_CAPABILITIES`,
    );
  }

  private image(block: ContentBlockParam): ChatCompletionContentPart {
    if (!this.options.capabilities.images) throw this.unsupported("an image");
    const source = block.source as { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown } | undefined;
    if (source?.type === "base64" && typeof source.data === "string") {
      return { type: "image_url", image_url: { url: `data:${String(source.media_type)};base64,${source.data}` } };
    }
    if (source?.type === "url" && typeof source.url === "string") return { type: "image_url", image_url: { url: source.url } };
    throw new InvalidRequestError(
      `image source type ${JSON.stringify(source?.type)} cannot be sent to provider ${this.options.provider}; send the image as base64 or a URL`,
    );
  }

  private document(block: ContentBlockParam): ChatCompletionContentPart {
    const source = block.source as { type?: unknown; media_type?: unknown; data?: unknown } | undefined;
    if (source?.type === "text" && typeof source.data === "string") return { type: "text", text: source.data };
    if (source?.type === "base64" && source.media_type === "application/pdf" && typeof source.data === "string") {
      if (!this.options.capabilities.pdf) throw this.unsupported("a PDF document");
      const filename = typeof block.title === "string" && block.title ? block.title : "document.pdf";
      return { type: "file", file: { filename, file_data: `data:application/pdf;base64,${source.data}` } };
    }
    throw this.unsupported(`a document (source ${JSON.stringify(source?.type)})`);
  }

  private userPart(block: ContentBlockParam): Marked<ChatCompletionContentPart> {
    const part: ChatCompletionContentPart =
      block.type === "image" ? this.image(block) : block.type === "document" ? this.document(block) : { type: "text", text: blockText(block) };
    const mark = this.mark(block);
    return mark ? { ...part, cache_control: mark } : part;
  }

  /** Text-only content as one string (every backend takes that); parts only for media or breakpoints. */
  private userContent(parts: Marked<ChatCompletionContentPart>[]): ChatCompletionUserMessageParam["content"] {
    if (parts.every((p) => p.type === "text" && !p.cache_control)) {
      return parts.map((p) => (p.type === "text" ? p.text : "")).join("\n\n");
    }
    return parts;
  }

  /** A user turn: its tool results first, as tool messages in order, then whatever else it says. */
  private user(message: MessageParam, out: ChatCompletionMessageParam[]): void {
    if (typeof message.content === "string") {
      out.push({ role: "user", content: message.content });
      return;
    }
    const parts: Marked<ChatCompletionContentPart>[] = [];
    const resultMedia: Marked<ChatCompletionContentPart>[] = [];
    for (const block of message.content) {
      if (block.type !== "tool_result") {
        parts.push(this.userPart(block));
        continue;
      }
      const texts: string[] = [];
      for (const inner of toolResultBlocks(block)) {
        if (inner.type === "image" || inner.type === "document") resultMedia.push(this.userPart(inner));
        else texts.push(blockText(inner));
      }
      out.push({ role: "tool", tool_call_id: String(block.tool_use_id), content: this.markedText(toolResultText(block, texts), this.mark(block)) });
    }
    // Tool messages cannot carry images; those of the results follow in the user turn.
    const all = [...resultMedia, ...parts];
    if (all.length > 0) out.push({ role: "user", content: this.userContent(all) });
  }

  private assistant(message: MessageParam, out: ChatCompletionMessageParam[]): void {
    const blocks: ContentBlockParam[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
    const texts: string[] = [];
    const thinking: string[] = [];
    const toolCalls: ChatCompletionMessageFunctionToolCall[] = [];
    for (const block of blocks) {
      if (block.type === "text") texts.push(String(block.text));
      else if (block.type === "thinking") thinking.push(String(block.thinking));
      else if (block.type === "tool_use") {
        toolCalls.push({
          id: String(block.id),
          type: "function",
          function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
        });
      }
      // redacted_thinking and Anthropic server-tool blocks have no Chat Completions form;
      // dropping them on every turn keeps the history stable.
    }
    if (texts.length === 0 && toolCalls.length === 0) return;
    const turn: AssistantTurn = { role: "assistant", content: texts.length > 0 ? texts.join("\n\n") : null };
    if (toolCalls.length > 0) turn.tool_calls = toolCalls;
    // Thinking goes back only to models that ask for it, and then on every assistant turn.
    if (this.options.capabilities.reasoning_history) turn.reasoning_content = thinking.join("");
    out.push(turn);
  }

  private midSystem(message: MessageParam, out: ChatCompletionMessageParam[]): void {
    const text = contentText(message.content);
    if (text === "") return;
    if (this.options.midSystem === "keep") {
      const blocks = typeof message.content === "string" ? [] : message.content;
      out.push({ role: "system", content: this.markedText(text, blocks.map((b) => this.mark(b)).find(Boolean)) });
      return;
    }
    // Merged backwards, never forwards: the turn it joins is already complete, so later turns
    // serialize it identically.
    const previous = out.at(-1);
    if (previous?.role === "user") {
      previous.content =
        typeof previous.content === "string" ? `${previous.content}\n\n${text}` : [...previous.content, { type: "text", text }];
    } else {
      out.push({ role: "user", content: text });
    }
  }

  messages(request: MessagesRequest): ChatCompletionMessageParam[] {
    const out: ChatCompletionMessageParam[] = [];
    const system = translatedSystemPrompt(request.system);
    const systemMark = Array.isArray(request.system) ? request.system.map((b) => this.mark(b)).find(Boolean) : undefined;
    if (system !== "") out.push({ role: "system", content: this.markedText(system, systemMark) });
    for (const message of request.messages) {
      if (message.role === "system") this.midSystem(message, out);
      else if (message.role === "user") this.user(message, out);
      else this.assistant(message, out);
    }
    return out;
  }

  tools(tools: Tool[]): ChatCompletionFunctionTool[] {
    return tools.map((tool) => {
      if (tool.type !== undefined && tool.type !== "custom") {
        throw new InvalidRequestError(
          `tool ${JSON.stringify(tool.name)} is Anthropic's built-in tool type ${JSON.stringify(tool.type)}, which provider ${this.options.provider} cannot run; define it as a custom tool with an input_schema`,
        );
      }
      return functionTool(tool);
    });
  }
}

function toolChoice(choice: MessagesRequest["tool_choice"]): ChatCompletionToolChoiceOption | undefined {
  switch (choice?.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { type: "function", function: { name: String(choice.name) } };
    default:
      return undefined;
  }
}

function usesTools(request: MessagesRequest): boolean {
  if (request.tool_choice?.type === "any" || request.tool_choice?.type === "tool") return true;
  return request.messages.some(
    (m) => Array.isArray(m.content) && m.content.some((b) => b.type === "tool_use" || b.type === "tool_result"),
  );
}

const effortLevels: Record<string, ReasoningEffort> = {
  minimal: "low",
  low: "low",
  medium: "medium",
  high: "high",
  xhigh: "high",
  max: "high",
};

/** Anthropic's thinking budget or effort as an OpenAI reasoning effort; undefined means "say nothing". */
function reasoningEffort(request: MessagesRequest): ReasoningEffort | undefined {
  const thinking = request.thinking;
  const effort = request.output_config?.effort;
  if (thinking?.type === "disabled") return undefined;
  if (thinking?.type === "enabled" && effort === undefined) {
    const budget = thinking.budget_tokens ?? 0;
    return budget <= 4096 ? "low" : budget <= 16384 ? "medium" : "high";
  }
  if (effort !== undefined) return effortLevels[effort] ?? "medium";
  return thinking?.type === "adaptive" ? "medium" : undefined;
}

/**
 * OpenAI refuses a `user` longer than 64 characters, and Claude Code's user_id is a JSON string
 * of about 150: a longer id goes as its SHA-256 (hex, 64 characters), the same for every turn.
 */
function endUser(userId: string): string {
  return userId.length <= 64 ? userId : createHash("sha256").update(userId).digest("hex");
}

export function toChatRequest(request: MessagesRequest, options: TranslationOptions): ChatRequest {
  const translator = new Translator(options);
  const caps = options.capabilities;
  const body: ChatRequest = { messages: translator.messages(request), stream: true };
  if (options.bodyModel !== undefined) body.model = options.bodyModel;
  if (request.tools && request.tools.length > 0) {
    if (caps.tools) {
      body.tools = translator.tools(request.tools);
      const choice = toolChoice(request.tool_choice);
      if (choice !== undefined) body.tool_choice = choice;
      if (request.tool_choice?.disable_parallel_tool_use === true) body.parallel_tool_calls = false;
    } else if (usesTools(request)) {
      throw new InvalidRequestError(
        `model ${options.model} on provider ${options.provider} does not support tools, and this request needs them; use a model that does or set "tools":true for it in MODEL_CAPABILITIES`,
      );
    }
  }

  const maxTokens = Math.min(request.max_tokens, caps.max_output_tokens);
  const openAiReasoning = caps.reasoning && (options.flavor === "openai" || options.flavor === "azure-openai");
  if (openAiReasoning) body.max_completion_tokens = maxTokens;
  else body.max_tokens = maxTokens;
  // OpenAI's reasoning models reject sampling parameters.
  if (!openAiReasoning) {
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.top_p !== undefined) body.top_p = request.top_p;
  }
  if (request.top_k !== undefined && (options.flavor === "openrouter" || options.flavor === "llamacpp")) {
    body.top_k = request.top_k;
  }
  if (request.stop_sequences && request.stop_sequences.length > 0) body.stop = request.stop_sequences;
  if (request.metadata?.user_id) body.user = endUser(request.metadata.user_id);
  if (caps.reasoning) {
    const effort = reasoningEffort(request);
    if (effort !== undefined) {
      if (options.flavor === "openrouter") body.reasoning = { effort };
      else body.reasoning_effort = effort;
    }
  }
  // Databricks serving endpoints reject parameters they do not know and report usage anyway.
  if (options.flavor !== "databricks") body.stream_options = { include_usage: true };
  return body;
}
