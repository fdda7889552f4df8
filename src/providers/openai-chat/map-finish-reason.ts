import type { StopReason } from "../../anthropic/schema.ts";

// OpenAI's finish_reason → Anthropic's stop_reason, truthfully: Claude Code acts on it (it runs
// tools on tool_use, auto-continues on max_tokens, retries on refusal).

export interface FinishFacts {
  /** The upstream's finish_reason, if it sent one. */
  finishReason: string | undefined;
  /** How many tool_use blocks the answer has. */
  toolUses: number;
  /** The request's stop sequence that ended the answer, where the server said which. */
  stopSequence: string | null;
}

export function mapFinishReason({ finishReason, toolUses, stopSequence }: FinishFacts): StopReason {
  if (finishReason === "length") return "max_tokens";
  if (finishReason === "content_filter") return "refusal";
  // tool_use exactly when tool_use blocks exist: some servers say "stop" after tool calls,
  // others "tool_calls" with none.
  if (toolUses > 0) return "tool_use";
  if (stopSequence !== null) return "stop_sequence";
  return "end_turn";
}
