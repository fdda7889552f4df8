import type { ContentBlockParam, MessageParam } from "../anthropic/schema.ts";
import { namespacedTool } from "../mcp/registry.ts";

// Server-tool blocks as plain tool calls, for models that only know tool_use / tool_result.
// The client keeps Anthropic's shapes (server_tool_use + web_search_tool_result, mcp_tool_use +
// mcp_tool_result) in its history; before each model call they become a tool_use in the assistant
// turn and a tool_result in a user turn right after it, so any backend reads the same conversation.

const lynkrSearchPrefix = "lynkr:";
/** Marks the ids of server-tool calls lynkr ran (after `srvtoolu_` / `mcptoolu_`), so their blocks are known later. */
export const lynkrIdMark = "lynkr_";

type Block = ContentBlockParam & Record<string, unknown>;

/** The snippet lynkr stored in a search result's `encrypted_content` (opaque to clients). */
export function decodeSnippet(encrypted: unknown): string {
  if (typeof encrypted !== "string" || !encrypted.startsWith(lynkrSearchPrefix)) return "";
  try {
    return Buffer.from(encrypted.slice(lynkrSearchPrefix.length), "base64").toString("utf8");
  } catch {
    return "";
  }
}

export function encodeSnippet(snippet: string): string {
  return lynkrSearchPrefix + Buffer.from(snippet, "utf8").toString("base64");
}

interface SearchResultBlock {
  url?: unknown;
  title?: unknown;
  page_age?: unknown;
  encrypted_content?: unknown;
}

/** What the model reads for a search: numbered results with url, age and snippet. */
function searchResultsText(results: SearchResultBlock[]): string {
  if (results.length === 0) return "No results.";
  return results
    .map((r, i) => {
      const age = typeof r.page_age === "string" && r.page_age ? `\nPublished: ${r.page_age}` : "";
      const snippet = decodeSnippet(r.encrypted_content);
      return `[${i + 1}] ${String(r.title ?? "")}\nURL: ${String(r.url ?? "")}${age}${snippet ? `\n${snippet}` : ""}`;
    })
    .join("\n\n");
}

function resultContent(block: Block): { content: string; isError: boolean } {
  const content = block.content as Record<string, unknown> | unknown[] | string | undefined;
  switch (block.type) {
    case "web_search_tool_result":
      if (Array.isArray(content)) return { content: searchResultsText(content as SearchResultBlock[]), isError: false };
      return { content: `web search failed: ${String((content as { error_code?: unknown } | undefined)?.error_code ?? "error")}`, isError: true };
    case "web_fetch_tool_result": {
      const result = content as { type?: unknown; url?: unknown; content?: { source?: { data?: unknown }; title?: unknown }; error_code?: unknown } | undefined;
      if (result?.type === "web_fetch_result") {
        const title = typeof result.content?.title === "string" ? `# ${result.content.title}\n` : "";
        return { content: `${title}URL: ${String(result.url)}\n\n${String(result.content?.source?.data ?? "")}`, isError: false };
      }
      return { content: `web fetch failed: ${String(result?.error_code ?? "error")}`, isError: true };
    }
    default: {
      const text = typeof content === "string" ? content : Array.isArray(content) ? content.map((c) => String((c as { text?: unknown }).text ?? "")).join("\n") : "";
      return { content: text, isError: block.is_error === true };
    }
  }
}

const resultTypes = new Set(["web_search_tool_result", "web_fetch_tool_result", "mcp_tool_result"]);

interface LowerOptions {
  /** Lower server_tool_use / web_*_tool_result too (false when an Anthropic upstream runs them itself). */
  webTools: boolean;
  /** Lower only mcp blocks of these servers (undefined: all). */
  mcpServers?: (server: string) => boolean;
}

function lowerUse(block: Block, options: LowerOptions): Block | undefined {
  if (block.type === "server_tool_use" && options.webTools && (block.name === "web_search" || block.name === "web_fetch")) {
    return { type: "tool_use", id: String(block.id), name: String(block.name), input: block.input ?? {} };
  }
  if (block.type === "mcp_tool_use" && (options.mcpServers?.(String(block.server_name)) ?? true)) {
    return { type: "tool_use", id: String(block.id), name: namespacedTool(String(block.server_name), String(block.name)), input: block.input ?? {} };
  }
  return undefined;
}

function lowerResult(block: Block, lowered: Set<string>): Block | undefined {
  if (!resultTypes.has(block.type) || !lowered.has(String(block.tool_use_id))) return undefined;
  const { content, isError } = resultContent(block);
  return { type: "tool_result", tool_use_id: String(block.tool_use_id), content, ...(isError ? { is_error: true } : {}) };
}

function needsLowering(messages: MessageParam[]): boolean {
  return messages.some(
    (m) => m.role === "assistant" && Array.isArray(m.content) && m.content.some((b) => b.type === "server_tool_use" || b.type === "mcp_tool_use"),
  );
}

/** `messages` with lynkr-run server-tool blocks lowered; the same array when there is nothing to lower. */
export function lowerServerToolBlocks(messages: MessageParam[], options: LowerOptions): MessageParam[] {
  if (!needsLowering(messages)) return messages;
  const out: MessageParam[] = [];
  // A user turn lynkr inserted after an assistant turn's tool results; the client's next user turn joins it.
  let inserted: MessageParam | undefined;
  for (const message of messages) {
    if (message.role !== "assistant" || typeof message.content === "string") {
      if (inserted && message.role === "user") {
        const extra = typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content;
        inserted.content = [...(inserted.content as Block[]), ...extra];
        inserted = undefined;
        continue;
      }
      inserted = undefined;
      out.push(message);
      continue;
    }
    const loweredIds = new Set<string>();
    let turn: Block[] = [];
    let results: Block[] = [];
    const flush = () => {
      if (results.length === 0) return;
      out.push({ ...message, content: turn });
      inserted = { role: "user", content: results };
      out.push(inserted);
      turn = [];
      results = [];
    };
    for (const raw of message.content) {
      const block = raw as Block;
      const result = lowerResult(block, loweredIds);
      if (result) {
        results.push(result);
        continue;
      }
      flush();
      inserted = undefined;
      const use = lowerUse(block, options);
      if (use) loweredIds.add(String(use.id));
      turn.push(use ?? block);
    }
    if (results.length > 0) flush();
    else {
      inserted = undefined;
      if (turn.length > 0) out.push({ ...message, content: turn });
    }
  }
  return out;
}

/**
 * Ids of server-tool calls lynkr ran that an Anthropic upstream must not be sent as its own: web
 * calls (by their mark or, for histories from before it, search results in lynkr's encoding) and
 * MCP calls of servers `lowered` does not cover (a request's own connector servers).
 */
function lynkrCallIds(messages: MessageParam[], lowered: (server: string) => boolean): Set<string> {
  const ids = new Set<string>();
  for (const message of messages) {
    if (message.role !== "assistant" || typeof message.content === "string") continue;
    for (const raw of message.content) {
      const block = raw as Block;
      if (block.type === "server_tool_use" && String(block.id).startsWith(`srvtoolu_${lynkrIdMark}`)) ids.add(String(block.id));
      if (block.type === "mcp_tool_use" && String(block.id).startsWith(`mcptoolu_${lynkrIdMark}`) && !lowered(String(block.server_name))) ids.add(String(block.id));
      if (block.type === "web_search_tool_result" && Array.isArray(block.content) && block.content.some((r) => decodeSnippet((r as SearchResultBlock).encrypted_content) !== "")) {
        ids.add(String(block.tool_use_id));
      }
    }
  }
  return ids;
}

/**
 * For an upstream that speaks Anthropic's wire: server tools lynkr ran (on another backend earlier
 * in the conversation) become text in their assistant turn. Anthropic rejects search results whose
 * encrypted_content it did not make, and tool uses it did not run; text is valid whatever tools the
 * request declares. Anthropic's own blocks pass untouched; MCP blocks of the servers `lowered`
 * covers are left for lowerServerToolBlocks (they become a tool call the model can make again).
 */
export function flattenLynkrBlocks(messages: MessageParam[], lowered: (server: string) => boolean): MessageParam[] {
  const ids = lynkrCallIds(messages, lowered);
  if (ids.size === 0) return messages;
  return messages.map((message) => {
    if (message.role !== "assistant" || typeof message.content === "string") return message;
    const content = message.content.map((raw): ContentBlockParam => {
      const block = raw as Block;
      if ((block.type === "server_tool_use" || block.type === "mcp_tool_use") && ids.has(String(block.id))) {
        const name = block.type === "mcp_tool_use" ? `${String(block.server_name)}.${String(block.name)}` : String(block.name);
        return { type: "text", text: `[${name} ${JSON.stringify(block.input ?? {})}]` };
      }
      if (resultTypes.has(block.type) && ids.has(String(block.tool_use_id))) {
        return { type: "text", text: resultContent(block).content || "[no content]" };
      }
      return raw;
    });
    return { ...message, content };
  });
}
