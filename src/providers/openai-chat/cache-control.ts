import type { ChatCompletionContentPartText } from "openai/resources/chat/completions";

// Anthropic's cache breakpoints, for the flavors that hand them on to Claude and Gemini
// (OpenRouter): a block's `cache_control` goes on the part or message made from it.

export type CacheMark = { type: string; [k: string]: unknown };
export type Marked<T> = T & { cache_control?: CacheMark };

/** A block's breakpoint when marks are on, else undefined. */
export function cacheMark(block: { type: string; cache_control?: unknown }, marksOn: boolean): CacheMark | undefined {
  if (!marksOn) return undefined;
  const mark = block.cache_control;
  return typeof mark === "object" && mark !== null && "type" in mark && typeof mark.type === "string" ? { ...mark, type: mark.type } : undefined;
}

/** Text with the block's breakpoint, as a part when there is one, else as a plain string. */
export function markedText(text: string, mark: CacheMark | undefined): string | Marked<ChatCompletionContentPartText>[] {
  return mark ? [{ type: "text", text, cache_control: mark }] : text;
}
