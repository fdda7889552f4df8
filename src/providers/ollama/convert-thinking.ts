import type { MessagesRequest } from "../../anthropic/schema.ts";

// Anthropic's thinking → Ollama's `think`: sent only to models that can think.

export interface ThinkingAbility {
  /** Whether the model can think (from /api/show). */
  thinking: boolean;
  /** Named thinking levels the model takes (e.g. gpt-oss: low, medium, high), if any. */
  thinkLevels: string[];
}

/** On for enabled or adaptive thinking, a named level where the model has levels; undefined: say nothing. */
export function convertThinking(request: MessagesRequest, model: ThinkingAbility): boolean | string | undefined {
  if (!model.thinking || !request.thinking) return undefined;
  if (request.thinking.type === "disabled") return false;
  const effort = request.output_config?.effort;
  if (model.thinkLevels.length > 0) {
    if (effort && model.thinkLevels.includes(effort)) return effort;
    return model.thinkLevels.includes("medium") ? "medium" : model.thinkLevels[0];
  }
  return true;
}
