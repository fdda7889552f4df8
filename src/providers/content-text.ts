import { isKnown, isKnownBlock, type ContentBlockParam, type ToolResultBlock, type ToolResultContentBlock, type ToolUseBlock } from "../anthropic/schema.ts";

// Anthropic content as the plain text of wire formats whose messages carry a string (OpenAI
// Chat Completions, Ollama), so that both flatten a history the same way.

/** A block's text; a block with no text form goes as its JSON. */
export function blockText(block: ContentBlockParam): string {
  if (isKnown(block, ["text"] as const)) return block.text;
  if (block.type === "tool_reference") return `[tool loaded: ${String(block.tool_name)}]`;
  return JSON.stringify(block);
}

/** A tool result's content as blocks: a string is one text block. */
export function toolResultBlocks(block: ToolResultBlock): ToolResultContentBlock[] {
  const content = block.content;
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content ?? [];
}

/** A tool result's texts as one message, marked when the tool failed. */
export function toolResultText(block: ToolResultBlock, texts: string[]): string {
  const text = texts.join("\n\n");
  return block.is_error === true ? `Error: ${text}` : text;
}

export interface AssistantContent {
  texts: string[];
  thinking: string[];
  toolUses: ToolUseBlock[];
}

/**
 * An assistant turn's texts, thinking and tool calls, in order. redacted_thinking and Anthropic
 * server-tool blocks have no form outside Anthropic's wire: dropped on every turn alike, which
 * keeps the translated history stable.
 */
export function assistantContent(blocks: ContentBlockParam[]): AssistantContent {
  const out: AssistantContent = { texts: [], thinking: [], toolUses: [] };
  for (const block of blocks) {
    if (!isKnownBlock(block)) continue;
    if (block.type === "text") out.texts.push(block.text);
    else if (block.type === "thinking") out.thinking.push(block.thinking);
    else if (block.type === "tool_use") out.toolUses.push(block);
  }
  return out;
}
