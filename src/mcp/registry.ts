import type { McpServerConfig } from "./config.ts";
import { McpConnection, type McpServerStatus, type McpTool } from "./connection.ts";

// All MCP servers lynkr runs for the operator, and their tools under Claude Code's naming:
// `mcp__<server>__<tool>`.

const mcpPrefix = "mcp__";

/**
 * The name a model calls: OpenAI-style backends take only letters, digits, `_` and `-`, at most
 * 64, in function names (a tool named `files.read` would fail the whole request), so other
 * characters become `_` as Claude Code does; the server still gets the tool's own name.
 */
export function namespacedTool(server: string, tool: string): string {
  return `${mcpPrefix}${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

export interface OfferedMcpTool {
  /** `mcp__<server>__<tool>` */
  name: string;
  server: McpConnection;
  tool: McpTool;
}

/** Tools of ready servers, namespaced; `offeredOnly` leaves out servers whose entry says `offer: false`. */
export function toolsOf(connections: Iterable<McpConnection>, offeredOnly: boolean): OfferedMcpTool[] {
  const out: OfferedMcpTool[] = [];
  for (const server of connections) {
    if (server.state !== "ready" || (offeredOnly && server.config.offer === false)) continue;
    for (const tool of server.tools) out.push({ name: namespacedTool(server.config.name, tool.name), server, tool });
  }
  return out;
}

export class McpRegistry {
  readonly connections: McpConnection[];

  constructor(
    servers: McpServerConfig[],
    /** Problems of the configuration files themselves, shown with the servers' status. */
    readonly problems: string[],
    connectTimeoutMs: number,
    onChange?: (registry: McpRegistry) => void,
  ) {
    this.connections = servers.map((config) => new McpConnection(config, connectTimeoutMs));
    for (const c of this.connections) c.onChange = () => onChange?.(this);
  }

  /** Starts every server in the background; the returned promise settles when each is ready or failed. */
  start(): Promise<void> {
    return Promise.all(this.connections.map((c) => c.start())).then(() => undefined);
  }

  /** Settles when every server's current start attempt has (ready or failed). */
  settled(): Promise<void> {
    return Promise.all(this.connections.map((c) => c.settled())).then(() => undefined);
  }

  status(): McpServerStatus[] {
    return this.connections.map((c) => c.status());
  }

  offeredTools(): OfferedMcpTool[] {
    return toolsOf(this.connections, true);
  }

  async stop(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.stop()));
  }
}
