import { isKnown, type ContentBlockParam, type ToolResultBlock, type ToolResultContentBlock } from "../anthropic/schema.ts";

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
