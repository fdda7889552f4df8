import type { Config } from "../config/schema.ts";
import { loadMcpConfig } from "../mcp/config.ts";
import { McpRegistry } from "../mcp/registry.ts";
import type { Registry } from "../observability/metrics/registry.ts";
import type { WebFetchSettings } from "../tools/web-fetch.ts";
import { defaultEndpoints, type SearchEngine } from "../tools/web-search.ts";

// What the server-tool loop draws on for the gateway's whole life: the operator's MCP servers,
// the web tools' settings, the policy limits, and the counters they feed.

export interface LoopPolicy {
  maxSteps: number;
  maxToolCalls: number;
  toolTimeoutMs: number;
  maxDurationMs: number;
  disallowed: string[];
}

export interface ServerToolServices {
  mcp: McpRegistry;
  policy: LoopPolicy;
  /** Undefined: no engine configured (SearxNG without WEB_SEARCH_ENDPOINT). */
  search: { engine: SearchEngine | undefined; maxResults: number };
  fetch: WebFetchSettings;
  /** Counts one tool run (metrics); `tool` is web_search, web_fetch or mcp:<server>. */
  onToolCall(tool: string, outcome: "ok" | "error" | "refused"): void;
}

export function isDisallowed(policy: LoopPolicy, name: string): boolean {
  return policy.disallowed.some((rule) => (rule.endsWith("*") ? name.startsWith(rule.slice(0, -1)) : name === rule));
}

/** The environment's limits of the server-tool loop. */
export type LoopPolicySettings = Pick<
  Config,
  "POLICY_MAX_STEPS" | "POLICY_MAX_TOOL_CALLS" | "POLICY_TOOL_TIMEOUT_MS" | "POLICY_MAX_DURATION_MS" | "POLICY_DISALLOWED_TOOLS"
>;

function loopPolicy(config: LoopPolicySettings): LoopPolicy {
  return {
    maxSteps: config.POLICY_MAX_STEPS,
    maxToolCalls: config.POLICY_MAX_TOOL_CALLS,
    toolTimeoutMs: config.POLICY_TOOL_TIMEOUT_MS,
    maxDurationMs: config.POLICY_MAX_DURATION_MS,
    disallowed: config.POLICY_DISALLOWED_TOOLS ?? [],
  };
}

/** The operator's MCP servers as configured (not started). */
/** Where MCP servers are declared (loadMcpConfig reads these), and how long one may take to start. */
export type McpSettings = Pick<Config, "LYNKR_MCP_CONFIG" | "MCP_MANIFEST_DIRS" | "HOME" | "MCP_START_TIMEOUT_MS">;

export function mcpRegistry(config: McpSettings, onChange?: (registry: McpRegistry) => void): McpRegistry {
  const { servers, problems } = loadMcpConfig(config);
  return new McpRegistry(servers, problems, config.MCP_START_TIMEOUT_MS, onChange);
}

type WebToolSettings = Pick<
  Config,
  "WEB_SEARCH_ENDPOINT" | "WEB_SEARCH_ENGINE" | "WEB_SEARCH_API_KEY" | "WEB_SEARCH_MAX_RESULTS" | "WEB_FETCH_ALLOW_PRIVATE" | "WEB_FETCH_MAX_BYTES" | "WEB_FETCH_MAX_CHARS"
>;

function searchEngine(config: WebToolSettings): SearchEngine | undefined {
  const endpoint = config.WEB_SEARCH_ENDPOINT ?? defaultEndpoints[config.WEB_SEARCH_ENGINE];
  if (!endpoint) return undefined;
  return { kind: config.WEB_SEARCH_ENGINE, endpoint, ...(config.WEB_SEARCH_API_KEY ? { apiKey: config.WEB_SEARCH_API_KEY } : {}) };
}

/** The counter of server-tool runs; the dashboard reads it back by this name. */
export const serverToolCallsMetric = "lynkr_server_tool_calls_total";

/** Everything the server-tool services read: the loop's limits, the MCP servers and the web tools. */
export type ServerToolSettings = Pick<Config, keyof LoopPolicySettings | keyof McpSettings | keyof WebToolSettings>;

export function createServerToolServices(config: ServerToolSettings, metrics: Registry): ServerToolServices {
  const calls = metrics.counter(serverToolCallsMetric, "Tools lynkr ran inside client requests, by tool and outcome.", ["tool", "outcome"]);
  const up = metrics.gauge("lynkr_mcp_server_up", "MCP server state: 1 ready, 0 not.", ["server"]);
  const tools = metrics.gauge("lynkr_mcp_server_tools", "Tools an MCP server offers.", ["server"]);
  const mcp = mcpRegistry(config, (registry) => {
    for (const s of registry.status()) {
      up.set({ server: s.name }, s.state === "ready" ? 1 : 0);
      tools.set({ server: s.name }, s.tools.length);
    }
  });
  for (const s of mcp.status()) up.set({ server: s.name }, 0);
  return {
    mcp,
    policy: loopPolicy(config),
    search: { engine: searchEngine(config), maxResults: config.WEB_SEARCH_MAX_RESULTS },
    fetch: { allowPrivate: config.WEB_FETCH_ALLOW_PRIVATE, maxBytes: config.WEB_FETCH_MAX_BYTES, maxChars: config.WEB_FETCH_MAX_CHARS },
    onToolCall: (tool, outcome) => calls.inc({ tool, outcome }),
  };
}
