import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionUserMessageParam,
} from "openai/resources/chat/completions";
import { isKnownBlock, type ContentBlockParam, type MessageParam, type MessagesRequest } from "../../anthropic/schema.ts";
import { assistantContent, blockText, toolResultBlocks, toolResultText } from "../content-text.ts";
import { translatedSystemPrompt } from "../system-prompt.ts";
import { cacheMark, markedText, type Marked } from "./cache-control.ts";
import { convertContentPart } from "./convert-content-part.ts";
import type { ConversionTarget } from "./conversion-options.ts";

// Anthropic system prompt and messages → Chat Completions messages. Each message translates on
// its own: the same history gives the same bytes on every turn, so the upstream's prefix cache
// keeps hitting. Nothing is hoisted or reordered; cache_control (unless handed on), thinking
// (unless the model takes it back) and Anthropic billing metadata are dropped the same way every time.

export interface MessageConversion extends ConversionTarget {
  /** Claude Code's cache_control breakpoints go on (the flavor hands them on to the model). */
  cacheMarks: boolean;
  /** role:"system" messages after the start: kept in place, or merged into the user turn before them. */
  midSystem: "keep" | "merge";
}

/** An assistant turn, with the reasoning field DeepSeek-style backends take back. */
type AssistantTurn = ChatCompletionAssistantMessageParam & { reasoning_content?: string };

function contentText(content: MessageParam["content"]): string {
  return typeof content === "string" ? content : content.map(blockText).join("\n\n");
}

/** Text-only content as one string (every backend takes that); parts only for media or breakpoints. */
function userContent(parts: Marked<ChatCompletionContentPart>[]): ChatCompletionUserMessageParam["content"] {
  if (parts.every((p) => p.type === "text" && !p.cache_control)) {
    return parts.map((p) => (p.type === "text" ? p.text : "")).join("\n\n");
  }
  return parts;
}

function userPart(block: ContentBlockParam, options: MessageConversion): Marked<ChatCompletionContentPart> {
  const part = convertContentPart(block, options);
  const mark = cacheMark(block, options.cacheMarks);
  return mark ? { ...part, cache_control: mark } : part;
}

/** A user turn: its tool results first, as tool messages in order, then whatever else it says. */
function convertUser(message: MessageParam, options: MessageConversion, out: ChatCompletionMessageParam[]): void {
  if (typeof message.content === "string") {
    out.push({ role: "user", content: message.content });
    return;
  }
  const parts: Marked<ChatCompletionContentPart>[] = [];
  const resultMedia: Marked<ChatCompletionContentPart>[] = [];
  for (const block of message.content) {
    if (!isKnownBlock(block) || block.type !== "tool_result") {
      parts.push(userPart(block, options));
      continue;
    }
    const texts: string[] = [];
    for (const inner of toolResultBlocks(block)) {
      if (inner.type === "image" || inner.type === "document") resultMedia.push(userPart(inner, options));
      else texts.push(blockText(inner));
    }
    out.push({ role: "tool", tool_call_id: block.tool_use_id, content: markedText(toolResultText(block, texts), cacheMark(block, options.cacheMarks)) });
  }
  // Tool messages cannot carry images; those of the results follow in the user turn.
  const all = [...resultMedia, ...parts];
  if (all.length > 0) out.push({ role: "user", content: userContent(all) });
}

function convertAssistant(message: MessageParam, options: MessageConversion, out: ChatCompletionMessageParam[]): void {
  const blocks: ContentBlockParam[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
  const { texts, thinking, toolUses } = assistantContent(blocks);
  const toolCalls = toolUses.map(
    (block): ChatCompletionMessageFunctionToolCall => ({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } }),
  );
  if (texts.length === 0 && toolCalls.length === 0) return;
  const turn: AssistantTurn = { role: "assistant", content: texts.length > 0 ? texts.join("\n\n") : null };
  if (toolCalls.length > 0) turn.tool_calls = toolCalls;
  // Thinking goes back only to models that ask for it, and then on every assistant turn.
  if (options.capabilities.reasoning_history) turn.reasoning_content = thinking.join("");
  out.push(turn);
}

function convertMidSystem(message: MessageParam, options: MessageConversion, out: ChatCompletionMessageParam[]): void {
  const text = contentText(message.content);
  if (text === "") return;
  if (options.midSystem === "keep") {
    const blocks = typeof message.content === "string" ? [] : message.content;
    out.push({ role: "system", content: markedText(text, blocks.map((b) => cacheMark(b, options.cacheMarks)).find(Boolean)) });
    return;
  }
  // Merged backwards, never forwards: the turn it joins is already complete, so later turns
  // serialize it identically.
  const previous = out.at(-1);
  if (previous?.role === "user") {
    previous.content = typeof previous.content === "string" ? `${previous.content}\n\n${text}` : [...previous.content, { type: "text", text }];
  } else {
    out.push({ role: "user", content: text });
  }
}

export function convertToOpenAiChatMessages(request: MessagesRequest, options: MessageConversion): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  const system = translatedSystemPrompt(request.system);
  const systemMark = Array.isArray(request.system) ? request.system.map((b) => cacheMark(b, options.cacheMarks)).find(Boolean) : undefined;
  if (system !== "") out.push({ role: "system", content: markedText(system, systemMark) });
  for (const message of request.messages) {
    if (message.role === "system") convertMidSystem(message, options, out);
    else if (message.role === "user") convertUser(message, options, out);
    else convertAssistant(message, options, out);
  }
  return out;
}
