import { z } from "zod";
import { bool, httpUrl, int, oneOf, text } from "../fields.ts";

// Tools lynkr runs itself inside one client request (src/agent/): MCP servers, and Anthropic's
// web_search / web_fetch server tools emulated for backends that cannot run them.

/** Comma-separated names; `*` at the end matches a prefix (`mcp__github__*`). */
const nameList = text().transform((value) =>
  value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== ""),
);

/** Folders, separated like PATH (`:`), or commas. */
const dirList = text().transform((value) =>
  value
    .split(/[,:]/)
    .map((dir) => dir.trim())
    .filter((dir) => dir !== ""),
);

export const serverToolsEnv = {
  /** Claude Code's `.mcp.json` shape; default ~/.lynkr/mcp.json (absent = no servers). */
  LYNKR_MCP_CONFIG: text().optional(),
  /** Folders holding Lynkr MCP manifests (`*.json`). */
  MCP_MANIFEST_DIRS: dirList.optional(),
  /** Time an MCP server of the configuration may take to start and list its tools (a cold `npx` takes seconds). */
  MCP_START_TIMEOUT_MS: int(30_000, 100),
  /** Model calls in one client request before lynkr stops with `pause_turn`. */
  POLICY_MAX_STEPS: int(10, 1, 100),
  /** Tool executions in one client request. */
  POLICY_MAX_TOOL_CALLS: int(20, 1, 1000),
  /** Time one tool call (MCP, search, fetch) may take. */
  POLICY_TOOL_TIMEOUT_MS: int(30_000, 100),
  /** Time the whole loop may take before no further tool runs. */
  POLICY_MAX_DURATION_MS: int(300_000, 1_000),
  /** Lynkr-run tools never offered nor run: `web_fetch`, `mcp__server__tool`, `mcp__server__*`. */
  POLICY_DISALLOWED_TOOLS: nameList.optional(),
  /** Who runs web_search for non-Anthropic backends: a SearxNG instance, or Brave Search / Tavily by API key. */
  WEB_SEARCH_ENGINE: oneOf(["searxng", "brave", "tavily"], "searxng"),
  /** The engine's base URL: required for SearxNG (its JSON API, `format=json` enabled), Brave's and Tavily's own by default. */
  WEB_SEARCH_ENDPOINT: httpUrl().optional(),
  /** Brave's subscription token or Tavily's API key. */
  WEB_SEARCH_API_KEY: text().optional(),
  WEB_SEARCH_MAX_RESULTS: int(5, 1, 20),
  /** web_fetch may reach private, loopback and link-local addresses (off: SSRF protection). */
  WEB_FETCH_ALLOW_PRIVATE: bool(false),
  /** Bytes read from one fetched page; the rest is never downloaded. */
  WEB_FETCH_MAX_BYTES: int(2 * 1024 * 1024, 1024),
  /** Characters of converted text handed to the model from one page. */
  WEB_FETCH_MAX_CHARS: int(100_000, 100),
};

export type ServerToolsEnv = z.infer<z.ZodObject<typeof serverToolsEnv>>;

/** Cross-field problems, each naming the variable to fix. */
export function serverToolsProblems(env: ServerToolsEnv): { variable: string; message: string }[] {
  if (env.WEB_SEARCH_ENGINE !== "searxng" && !env.WEB_SEARCH_API_KEY) {
    return [{ variable: "WEB_SEARCH_API_KEY", message: `required when WEB_SEARCH_ENGINE=${env.WEB_SEARCH_ENGINE}` }];
  }
  return [];
}
