import { z } from "zod";
import { InvalidRequestError } from "../anthropic/errors.ts";
import type { MessageParam, MessagesRequest, ResponseContentBlock, Tool } from "../anthropic/schema.ts";
import { McpConnection } from "../mcp/connection.ts";
import { toolsOf, type OfferedMcpTool } from "../mcp/registry.ts";
import { checkedAddress } from "../tools/address-guard.ts";
import { guardedFetch } from "../tools/guarded-fetch.ts";
import { webFetch } from "../tools/web-fetch.ts";
import { searchWeb, type SearchEngine } from "../tools/web-search.ts";
import { encodeSnippet, flattenLynkrBlocks, lowerServerToolBlocks } from "./history.ts";
import { isDisallowed, type ServerToolServices } from "./services.ts";

// The tools lynkr runs for one request: which to offer the model (as plain custom tools), how to
// run each, and the request each model call gets (server tools swapped for those, history lowered).

export interface ToolRun {
  /** The client-facing result block (web_search_tool_result, web_fetch_tool_result, mcp_tool_result). */
  result: ResponseContentBlock;
  isError: boolean;
}

export interface LynkrTool {
  /** The name the model calls. */
  name: string;
  definition: Tool;
  /** Label for metrics and logs. */
  label: string;
  /** The client-facing use block for a call with `id` and `input`. */
  useBlock(id: string, input: Record<string, unknown>): ResponseContentBlock;
  run(id: string, input: Record<string, unknown>, signal: AbortSignal): Promise<ToolRun>;
  /** The result when lynkr does not run the call (limit, bad input, timeout). */
  refusal(id: string, reason: string, code: "max_uses_exceeded" | "invalid_tool_input" | "unavailable" | "too_many_requests"): ToolRun;
  /** The client's `max_uses` for this tool in one request. */
  maxUses?: number;
  /** web_search / web_fetch count in usage.server_tool_use. */
  usageKey?: "web_search_requests" | "web_fetch_requests";
}

export interface RequestTools {
  tools: Map<string, LynkrTool>;
  /** The request a model call gets for the conversation so far; `continuing` after lynkr ran tools in this turn. */
  upstreamRequest(messages: MessageParam[], continuing: boolean): MessagesRequest;
  /** Closes what this request opened (its own MCP connections). */
  close(): Promise<void>;
}

const isWebSearch = (t: Tool) => typeof t.type === "string" && t.type.startsWith("web_search_");
const isWebFetch = (t: Tool) => typeof t.type === "string" && t.type.startsWith("web_fetch_");

const webToolConfig = z.looseObject({
  max_uses: z.number().int().positive().optional(),
  allowed_domains: z.array(z.string()).max(1000).nullish(),
  blocked_domains: z.array(z.string()).max(1000).nullish(),
  max_content_tokens: z.number().int().positive().optional(),
});
type WebToolConfig = z.infer<typeof webToolConfig>;

function webToolSettings(tool: Tool): WebToolConfig {
  const parsed = webToolConfig.safeParse(tool);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestError(`tools.${tool.name}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
}

const mcpServersField = z
  .array(
    z.looseObject({
      type: z.literal("url"),
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "expected letters, digits, _ and -" }),
      url: z.url({ protocol: /^https?$/ }),
      authorization_token: z.string().nullish(),
      tool_configuration: z.looseObject({ enabled: z.boolean().nullish(), allowed_tools: z.array(z.string()).nullish() }).nullish(),
    }),
  )
  .max(20);

function textResult(id: string, text: string, isError: boolean): ToolRun {
  return { result: { type: "mcp_tool_result", tool_use_id: id, is_error: isError, content: [{ type: "text", text }] }, isError };
}

type WebToolName = "web_search" | "web_fetch";

/** What web_search and web_fetch share: one string argument, Anthropic's result and error block shapes. */
function webTool(
  name: WebToolName,
  config: WebToolConfig,
  description: string,
  argument: { name: "query" | "url"; description: string },
  run: (value: string, signal: AbortSignal) => Promise<{ ok: true; content: unknown } | { ok: false; errorCode: string }>,
): LynkrTool {
  const error = (id: string, code: string): ToolRun => ({
    result: { type: `${name}_tool_result`, tool_use_id: id, content: { type: `${name}_tool_result_error`, error_code: code } },
    isError: true,
  });
  const input = z.object({ [argument.name]: z.string() });
  return {
    name,
    label: name,
    ...(config.max_uses ? { maxUses: config.max_uses } : {}),
    usageKey: name === "web_search" ? "web_search_requests" : "web_fetch_requests",
    definition: {
      name,
      description,
      input_schema: { type: "object", properties: { [argument.name]: { type: "string", description: argument.description } }, required: [argument.name] },
    },
    useBlock: (id, value) => ({ type: "server_tool_use", id, name, input: value }),
    refusal: (id, _reason, code) => error(id, code),
    async run(id, value, signal) {
      const parsed = input.safeParse(value);
      if (!parsed.success) return error(id, "invalid_tool_input");
      const outcome = await run(String(parsed.data[argument.name]), signal);
      if (!outcome.ok) return error(id, outcome.errorCode);
      return { result: { type: `${name}_tool_result`, tool_use_id: id, content: outcome.content }, isError: false };
    },
  };
}

function webSearchTool(config: WebToolConfig, services: ServerToolServices, engine: SearchEngine): LynkrTool {
  return webTool(
    "web_search",
    config,
    "Search the web for current information. Returns numbered results, each with a title, URL, publication date where known, and a snippet. Cite the URLs of the results you use in your answer.",
    { name: "query", description: "The search query" },
    async (query, signal) => {
      const outcome = await searchWeb(engine, query, { ...config, maxResults: services.search.maxResults }, signal);
      if (!outcome.ok) return outcome;
      const content = outcome.results.map((r) => ({ type: "web_search_result", url: r.url, title: r.title, page_age: r.pageAge, encrypted_content: encodeSnippet(r.snippet) }));
      return { ok: true, content };
    },
  );
}

function webFetchTool(config: WebToolConfig, services: ServerToolServices): LynkrTool {
  // Anthropic's max_content_tokens, at ~4 characters a token.
  const maxChars = config.max_content_tokens ? config.max_content_tokens * 4 : undefined;
  return webTool(
    "web_fetch",
    config,
    "Fetch a web page or text document by URL and read its content as Markdown.",
    { name: "url", description: "The http(s) URL to fetch" },
    async (url, signal) => {
      const outcome = await webFetch(url, { ...config, ...(maxChars ? { maxChars } : {}) }, services.fetch, signal);
      if (!outcome.ok) return outcome;
      const document = { type: "document", source: { type: "text", media_type: outcome.mediaType, data: outcome.text }, ...(outcome.title ? { title: outcome.title } : {}) };
      return { ok: true, content: { type: "web_fetch_result", url: outcome.url, retrieved_at: outcome.retrievedAt, content: document } };
    },
  );
}

/** `label`: the metrics label; a request's own servers share one, their names are the client's to choose. */
function mcpTool(offered: OfferedMcpTool, services: ServerToolServices, label: string): LynkrTool {
  const { server, tool } = offered;
  const serverName = server.config.name;
  return {
    name: offered.name,
    label,
    definition: { name: offered.name, ...(tool.description ? { description: tool.description } : {}), input_schema: tool.inputSchema },
    useBlock: (id, input) => ({ type: "mcp_tool_use", id, name: tool.name, server_name: serverName, input }),
    refusal: (id, reason) => textResult(id, reason, true),
    async run(id, input, signal) {
      const result = await server.call(tool.name, input, services.policy.toolTimeoutMs, signal);
      return textResult(id, result.text, result.isError);
    },
  };
}

/** The client's MCP connector servers (`mcp_servers`), connected for this request only. */
async function connectRequestServers(request: MessagesRequest, services: ServerToolServices): Promise<McpConnection[]> {
  const parsed = mcpServersField.safeParse(request.mcp_servers);
  if (!parsed.success) {
    throw new InvalidRequestError(`mcp_servers: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const wanted = new Set((request.tools ?? []).filter((t) => t.type === "mcp_toolset").map((t) => String(t.mcp_server_name)));
  const connections: McpConnection[] = [];
  // Every request a connection sends (and every redirect) is checked and pinned, not just the first look-up.
  const guarded = services.fetch.allowPrivate ? undefined : guardedFetch(services.fetch.guard);
  for (const def of parsed.data) {
    if (def.tool_configuration?.enabled === false || (wanted.size > 0 && !wanted.has(def.name))) continue;
    if (!services.fetch.allowPrivate) {
      try {
        // Checked here too, to answer a private URL with a clear 400 before connecting.
        await checkedAddress(new URL(def.url).hostname, services.fetch.guard);
      } catch (error) {
        throw new InvalidRequestError(`mcp_servers.${def.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const headers: Record<string, string> = def.authorization_token ? { authorization: `Bearer ${def.authorization_token}` } : {};
    const connection = new McpConnection({ type: "http", url: def.url, headers, name: def.name, source: "the request's mcp_servers" }, services.policy.toolTimeoutMs, { restart: false, ...(guarded ? { fetch: guarded } : {}) });
    connections.push(connection);
    await connection.start();
    if (connection.state !== "ready") {
      await Promise.all(connections.map((c) => c.stop()));
      throw new InvalidRequestError(`mcp_servers.${def.name}: ${connection.error ?? "not ready"}`);
    }
    const allowed = def.tool_configuration?.allowed_tools;
    if (allowed) connection.tools = connection.tools.filter((t) => allowed.includes(t.name));
  }
  return connections;
}

interface ToolsetOptions {
  /** Every provider the request may reach speaks Anthropic's wire: its server tools and mcp_servers pass through. */
  anthropicOnly: boolean;
}

/**
 * The tools lynkr runs for `request`, or undefined when it runs none and the request can go out
 * unchanged. Throws InvalidRequestError for what cannot be served (web_search without an engine).
 */
export async function requestTools(request: MessagesRequest, services: ServerToolServices, options: ToolsetOptions): Promise<RequestTools | undefined> {
  const clientTools = request.tools ?? [];
  const emulate = !options.anthropicOnly;
  const tools = new Map<string, LynkrTool>();
  const offer = (tool: LynkrTool) => {
    if (!isDisallowed(services.policy, tool.name) && !tools.has(tool.name)) tools.set(tool.name, tool);
  };
  if (emulate) {
    for (const tool of clientTools) {
      if (isWebSearch(tool)) {
        const engine = services.search.engine;
        if (!engine) {
          throw new InvalidRequestError(
            `tool ${JSON.stringify(tool.name)} (${String(tool.type)}) is Anthropic's web search, which this provider cannot run; set WEB_SEARCH_ENDPOINT to a SearxNG instance (or WEB_SEARCH_ENGINE=brave|tavily with WEB_SEARCH_API_KEY) and lynkr runs the searches`,
          );
        }
        offer(webSearchTool(webToolSettings(tool), services, engine));
      } else if (isWebFetch(tool)) {
        offer(webFetchTool(webToolSettings(tool), services));
      }
    }
  }
  const clientNames = new Set(clientTools.filter((t) => t.type === undefined || t.type === "custom").map((t) => t.name));
  // `tools: []` or tool_choice none: the client asked for an answer without tools (Claude Code's side calls).
  const takesTools = !(request.tools?.length === 0 || request.tool_choice?.type === "none");
  const requestServers = emulate && request.mcp_servers !== undefined ? await connectRequestServers(request, services) : [];
  if (takesTools) {
    const mcpTools = [
      ...services.mcp.offeredTools().map((offered) => ({ offered, label: `mcp:${offered.server.config.name}` })),
      ...toolsOf(requestServers, false).map((offered) => ({ offered, label: "mcp_connector" })),
    ];
    // Claude Code runs its own MCP servers under the same naming: a tool the client has is the client's.
    for (const { offered, label } of mcpTools) if (!clientNames.has(offered.name)) offer(mcpTool(offered, services, label));
  }

  const lynkrServers = new Set([...services.mcp.connections, ...requestServers].map((c) => c.config.name));
  const lowerOptions = { webTools: emulate, mcpServers: (server: string) => lynkrServers.has(server) };
  // Emulating, every web block is lowered anyway; on Anthropic's wire only the ones lynkr made must go.
  const lower = (messages: MessageParam[]) => lowerServerToolBlocks(emulate ? messages : flattenLynkrBlocks(messages, lowerOptions.mcpServers), lowerOptions);
  const lowered = lower(request.messages);
  if (tools.size === 0 && lowered === request.messages) {
    await Promise.all(requestServers.map((c) => c.stop()));
    return undefined;
  }

  const keptTools = clientTools.filter((t) => !(emulate && (isWebSearch(t) || isWebFetch(t) || t.type === "mcp_toolset")) && !tools.has(t.name));
  const offered = [...keptTools, ...[...tools.values()].map((t) => t.definition)];
  const { mcp_servers: _handled, ...rest } = request;
  const base: MessagesRequest = emulate ? rest : request;
  return {
    tools,
    upstreamRequest: (messages, continuing) => ({
      ...base,
      messages: lower(messages),
      ...(offered.length > 0 || request.tools ? { tools: offered } : {}),
      // A forced tool choice applies to the turn's first call: forced again, the model could never answer.
      ...(continuing && (request.tool_choice?.type === "any" || request.tool_choice?.type === "tool") ? { tool_choice: { type: "auto" as const, ...(request.tool_choice.disable_parallel_tool_use !== undefined ? { disable_parallel_tool_use: request.tool_choice.disable_parallel_tool_use } : {}) } } : {}),
    }),
    close: async () => {
      await Promise.all(requestServers.map((c) => c.stop()));
    },
  };
}

