import type { MessagesRequest } from "../../anthropic/schema.ts";

// Anthropic's thinking (a budget, or adaptive with an effort) → an OpenAI reasoning effort.

export type ReasoningEffort = "low" | "medium" | "high";

const effortLevels: Record<string, ReasoningEffort> = {
  minimal: "low",
  low: "low",
  medium: "medium",
  high: "high",
  xhigh: "high",
  max: "high",
};

/** The effort to ask for; undefined means "say nothing" (the model's own default). */
export function convertReasoningEffort(request: MessagesRequest): ReasoningEffort | undefined {
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
