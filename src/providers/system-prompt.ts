import type { MessagesRequest } from "../anthropic/schema.ts";

/** Claude Code's first system block: Anthropic billing metadata that differs per conversation. */
const billingHeaderPrefix = "x-anthropic-billing-header:";

/**
 * The request's `system` as one prompt for a non-Anthropic backend. The billing block is dropped:
 * as the very first text of the prompt, and different between conversations, subagents and
 * compactions, it would keep the backend's prefix cache from ever reusing the system prompt.
 */
export function translatedSystemPrompt(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  return system
    .filter((block) => !block.text.startsWith(billingHeaderPrefix))
    .map((block) => block.text)
    .join("\n\n");
}
