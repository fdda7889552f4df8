import type { MessageParam } from "../../anthropic/schema.ts";
import { isLynkrThinkingSignature } from "../../anthropic/thinking-signature.ts";

function isForeignThinking(block: { type: string; signature?: unknown }): boolean {
  return block.type === "thinking" && isLynkrThinkingSignature(block.signature);
}

/**
 * Removes thinking blocks another provider produced (e.g. before a fallback in mid-session):
 * Anthropic rejects thinking it did not sign. The history is returned as is when there is none.
 */
export function stripForeignThinking(messages: MessageParam[]): MessageParam[] {
  const touched = messages.some(
    (m) => m.role === "assistant" && Array.isArray(m.content) && m.content.some(isForeignThinking),
  );
  if (!touched) return messages;
  return messages.map((m) => {
    if (m.role !== "assistant" || !Array.isArray(m.content)) return m;
    const content = m.content.filter((b) => !isForeignThinking(b));
    return content.length === m.content.length ? m : { ...m, content };
  });
}
