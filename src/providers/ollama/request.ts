import { InvalidRequestError } from "../../anthropic/errors.ts";
import type { ContentBlockParam, MessageParam, MessagesRequest } from "../../anthropic/schema.ts";
import { blockText, toolResultBlocks, toolResultText } from "../content-text.ts";
import { translatedSystemPrompt } from "../system-prompt.ts";
import { functionTool, type FunctionTool } from "../tool-schema.ts";

// Anthropic Messages request → Ollama /api/chat request. A pure function of the request: the
// same history gives the same bytes every turn, so Ollama's prompt cache keeps its prefix.

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

export interface OllamaOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  num_predict?: number;
  stop?: string[];
  num_ctx?: number;
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  tools?: FunctionTool[];
  stream: true;
  think?: boolean | string;
  keep_alive?: string | number;
  options: OllamaOptions;
}

export interface OllamaTranslation {
  model: string;
  /** Whether the model takes tools (from /api/show); tools are left out when it does not. */
  tools: boolean;
  /** Whether the model can think; `think` is only sent to models that can. */
  thinking: boolean;
  /** Named thinking levels the model takes (e.g. gpt-oss: low, medium, high), if any. */
  thinkLevels: string[];
  keepAlive: string | undefined;
  numCtx: number | undefined;
}

function base64Image(block: ContentBlockParam): string {
  const source = block.source as { type?: unknown; data?: unknown } | undefined;
  if (source?.type === "base64" && typeof source.data === "string") return source.data;
  throw new InvalidRequestError(
    `image source type ${JSON.stringify(source?.type)} cannot be sent to Ollama, which takes base64 images only`,
    { headers: { "x-should-retry": "false" } },
  );
}

/** Text of a block Ollama has no field for; documents must carry text. */
function plainText(block: ContentBlockParam): string {
  if (block.type !== "document") return blockText(block);
  const source = block.source as { type?: unknown; data?: unknown } | undefined;
  if (source?.type === "text" && typeof source.data === "string") return source.data;
  throw new InvalidRequestError(
    `a document (source ${JSON.stringify(source?.type)}) cannot be sent to Ollama; only text documents can`,
    { headers: { "x-should-retry": "false" } },
  );
}

interface Parts {
  text: string[];
  images: string[];
}

function collect(blocks: ContentBlockParam[], into: Parts = { text: [], images: [] }): Parts {
  for (const block of blocks) {
    if (block.type === "image") into.images.push(base64Image(block));
    else into.text.push(plainText(block));
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
    if (block.type !== "tool_result") {
      rest.push(block);
      continue;
    }
    const parts = collect(toolResultBlocks(block));
    const toolName = toolNames.get(String(block.tool_use_id));
    out.push(
      withImages(
        { role: "tool", content: toolResultText(block, parts.text), ...(toolName ? { tool_name: toolName } : {}) },
        parts.images,
      ),
    );
  }
  if (rest.length > 0) {
    const parts = collect(rest);
    out.push(withImages({ role: "user", content: parts.text.join("\n\n") }, parts.images));
  }
  return out;
}

function assistantMessage(content: ContentBlockParam[], toolNames: Map<string, string>): OllamaMessage {
  const text: string[] = [];
  const thinking: string[] = [];
  const calls: OllamaToolCall[] = [];
  for (const block of content) {
    if (block.type === "text") text.push(String(block.text));
    else if (block.type === "thinking") thinking.push(String(block.thinking));
    else if (block.type === "tool_use") {
      toolNames.set(String(block.id), String(block.name));
      calls.push({ function: { name: String(block.name), arguments: block.input ?? {} } });
    }
    // redacted_thinking is Anthropic-encrypted: nothing Ollama could read.
  }
  return {
    role: "assistant",
    content: text.join("\n\n"),
    ...(thinking.length > 0 ? { thinking: thinking.join("\n\n") } : {}),
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}

function messagesFor(request: MessagesRequest): OllamaMessage[] {
  const out: OllamaMessage[] = [];
  const system = translatedSystemPrompt(request.system);
  if (system) out.push({ role: "system", content: system });
  // Tool results name their call by id; Ollama wants the tool's name instead.
  const toolNames = new Map<string, string>();
  for (const message of request.messages as MessageParam[]) {
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

function toolsFor(request: MessagesRequest): FunctionTool[] | undefined {
  if (!request.tools || request.tools.length === 0 || request.tool_choice?.type === "none") return undefined;
  return request.tools
    // Anthropic server tools (web_search_20250305…) have a `type` and no schema: nothing to call locally.
    .filter((tool) => tool.input_schema !== undefined)
    .map(functionTool);
}

/** Ollama's `think`: on for enabled or adaptive thinking, a named level where the model has levels. */
function thinkFor(request: MessagesRequest, options: OllamaTranslation): boolean | string | undefined {
  if (!options.thinking || !request.thinking) return undefined;
  if (request.thinking.type === "disabled") return false;
  const effort = request.output_config?.effort;
  if (options.thinkLevels.length > 0) {
    if (effort && options.thinkLevels.includes(effort)) return effort;
    return options.thinkLevels.includes("medium") ? "medium" : options.thinkLevels[0];
  }
  return true;
}

export function toOllamaRequest(request: MessagesRequest, options: OllamaTranslation): OllamaChatRequest {
  const tools = options.tools ? toolsFor(request) : undefined;
  const think = thinkFor(request, options);
  const generation: OllamaOptions = {
    num_predict: request.max_tokens,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.top_p !== undefined ? { top_p: request.top_p } : {}),
    ...(request.top_k !== undefined ? { top_k: request.top_k } : {}),
    ...(request.stop_sequences && request.stop_sequences.length > 0 ? { stop: request.stop_sequences } : {}),
    ...(options.numCtx ? { num_ctx: options.numCtx } : {}),
  };
  return {
    model: options.model,
    messages: messagesFor(request),
    ...(tools && tools.length > 0 ? { tools } : {}),
    stream: true,
    ...(think !== undefined ? { think } : {}),
    ...(options.keepAlive !== undefined
      ? { keep_alive: /^-?\d+$/.test(options.keepAlive) ? Number(options.keepAlive) : options.keepAlive }
      : {}),
    options: generation,
  };
}
