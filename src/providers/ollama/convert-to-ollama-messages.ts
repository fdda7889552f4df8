import { InvalidRequestError } from "../../anthropic/errors.ts";
import { isKnown, isKnownBlock, type ContentBlockParam, type ImageBlock, type MessagesRequest, type ToolResultContentBlock } from "../../anthropic/schema.ts";
import { assistantContent, blockText, toolResultBlocks, toolResultText } from "../content-text.ts";
import { translatedSystemPrompt } from "../system-prompt.ts";

// Anthropic system prompt and messages → Ollama /api/chat messages. A pure function of the
// request: the same history gives the same bytes every turn, so Ollama's prompt cache keeps its prefix.

export interface OllamaToolCall {
  function: { name: string; arguments: unknown };
}

export interface OllamaMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  images?: string[];
  thinking?: string;
  tool_calls?: OllamaToolCall[];
  /** Which tool a `role:"tool"` message answers; Ollama has no call ids. */
  tool_name?: string;
}

const noRetry = { headers: { "x-should-retry": "false" } };

function base64Image(source: ImageBlock["source"]): string {
  if (isKnown(source, ["base64"] as const)) return source.data;
  throw new InvalidRequestError(`image source type ${JSON.stringify(source.type)} cannot be sent to Ollama, which takes base64 images only`, noRetry);
}

interface Parts {
  text: string[];
  images: string[];
}

/** Texts and base64 images of some blocks; documents must carry text (Ollama has no field for others). */
function collect(blocks: (ContentBlockParam | ToolResultContentBlock)[]): Parts {
  const into: Parts = { text: [], images: [] };
  for (const block of blocks) {
    if (isKnown(block, ["image", "document"] as const)) {
      if (block.type === "image") {
        into.images.push(base64Image(block.source));
      } else if (isKnown(block.source, ["text"] as const)) {
        into.text.push(block.source.data);
      } else {
        throw new InvalidRequestError(`a document (source ${JSON.stringify(block.source.type)}) cannot be sent to Ollama; only text documents can`, noRetry);
      }
    } else {
      into.text.push(blockText(block));
    }
  }
  return into;
}

function withImages(message: OllamaMessage, images: string[]): OllamaMessage {
  return images.length > 0 ? { ...message, images } : message;
}

function userMessages(content: ContentBlockParam[], toolNames: Map<string, string>): OllamaMessage[] {
  const out: OllamaMessage[] = [];
  const rest: ContentBlockParam[] = [];
  for (const block of content) {
    if (!isKnownBlock(block) || block.type !== "tool_result") {
      rest.push(block);
      continue;
    }
    const parts = collect(toolResultBlocks(block));
    const toolName = toolNames.get(block.tool_use_id);
    out.push(withImages({ role: "tool", content: toolResultText(block, parts.text), ...(toolName ? { tool_name: toolName } : {}) }, parts.images));
  }
  if (rest.length > 0) {
    const parts = collect(rest);
    out.push(withImages({ role: "user", content: parts.text.join("\n\n") }, parts.images));
  }
  return out;
}

function assistantMessage(content: ContentBlockParam[], toolNames: Map<string, string>): OllamaMessage {
  const { texts, thinking, toolUses } = assistantContent(content);
  const calls: OllamaToolCall[] = toolUses.map((block) => {
    toolNames.set(block.id, block.name);
    return { function: { name: block.name, arguments: block.input ?? {} } };
  });
  return {
    role: "assistant",
    content: texts.join("\n\n"),
    ...(thinking.length > 0 ? { thinking: thinking.join("\n\n") } : {}),
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}

export function convertToOllamaMessages(request: MessagesRequest): OllamaMessage[] {
  const out: OllamaMessage[] = [];
  const system = translatedSystemPrompt(request.system);
  if (system) out.push({ role: "system", content: system });
  // Tool results name their call by id; Ollama wants the tool's name instead.
  const toolNames = new Map<string, string>();
  for (const message of request.messages) {
    if (typeof message.content === "string") {
      out.push({ role: message.role, content: message.content });
      continue;
    }
    if (message.role === "assistant") out.push(assistantMessage(message.content, toolNames));
    else if (message.role === "user") out.push(...userMessages(message.content, toolNames));
    else if (message.content.length > 0) {
      // Claude Code's role:"system" messages mid-conversation (empty after compaction).
      out.push({ role: "system", content: collect(message.content).text.join("\n\n") });
    }
  }
  return out;
}
