import type { ChatDelta } from "./wire.ts";

// The text a delta carries, as Anthropic block kinds: reasoning as `reasoning_content`
// (DeepSeek, llama.cpp, xAI) or `reasoning` (OpenRouter), Mistral's typed content parts,
// Databricks' reasoning summaries, plain content, and a refusal (shown as text).

export type TextKind = "thinking" | "text";

/**
 * Calls `emit` for each piece of text, in the order it belongs in the answer; `into` is handed
 * through, so that a caller can bind `emit` once instead of allocating a closure per chunk.
 */
export function forEachDeltaText<T>(delta: ChatDelta, emit: (kind: TextKind, text: string, into: T) => void, into: T): void {
  const reasoning = delta.reasoning_content ?? delta.reasoning;
  if (reasoning) emit("thinking", reasoning, into);
  const content = delta.content;
  if (typeof content === "string") {
    emit("text", content, into);
  } else if (content) {
    for (const part of content) {
      if (part.type === "text" && part.text) emit("text", part.text, into);
      else if (part.type === "thinking") {
        emit("thinking", typeof part.thinking === "string" ? part.thinking : (part.thinking ?? []).map((t) => t.text ?? "").join(""), into);
      } else if (part.type === "reasoning") {
        emit("thinking", (part.summary ?? []).map((t) => t.text ?? "").join(""), into);
      }
    }
  }
  if (delta.refusal) emit("text", delta.refusal, into);
}
