import type { StopReason } from "../../anthropic/schema.ts";

/** Ollama's done_reason → Anthropic's stop_reason: "length" is a real cut; tool calls make it tool_use. */
export function mapFinishReason(doneReason: string | null | undefined, toolUses: number): StopReason {
  if (doneReason === "length") return "max_tokens";
  return toolUses > 0 ? "tool_use" : "end_turn";
}
