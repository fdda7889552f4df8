import { defineCommand } from "citty";
import { mcpRegistry } from "../../agent/services.ts";
import { ConfigError, loadConfig } from "../../config/load.ts";
import type { McpServerStatus } from "../../mcp/connection.ts";
import { configureLogger } from "../../observability/logger.ts";

// `lynkr mcp list`: starts each configured MCP server the way the gateway would, and shows its
// state and tools, or why it cannot start. Exit 1 when any server (or configuration file) fails.

export function mcpTable(servers: McpServerStatus[], problems: string[]): string {
  const lines: string[] = [];
  if (servers.length === 0) lines.push("no MCP servers configured (LYNKR_MCP_CONFIG, default ~/.lynkr/mcp.json; MCP_MANIFEST_DIRS)");
  for (const s of servers) {
    lines.push(`${s.state === "ready" ? "✔" : "✖"} ${s.name} (${s.transport}) ${s.state}`);
    if (s.error) lines.push(`    error: ${s.error}`);
    if (s.tools.length > 0) lines.push(`    tools: ${s.tools.map((t) => `mcp__${s.name}__${t}`).join(", ")}`);
  }
  for (const problem of problems) lines.push(`✖ configuration: ${problem}`);
  return `${lines.join("\n")}\n`;
}

const listCommand = defineCommand({
  meta: { name: "list", description: "Start the configured MCP servers, list their state and tools, stop them" },
  args: {
    json: { type: "boolean", description: "Print the result as JSON" },
    "env-file": { type: "string", description: "Read configuration from this .env file (default: ./.env, else ~/.lynkr/.env, if present)" },
  },
  async run({ args }) {
    let config;
    try {
      config = loadConfig({ env: process.env, envFile: args["env-file"] });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`lynkr: ${error.message}\n`);
      process.exit(2);
    }
    configureLogger("silent", "json");
    const registry = mcpRegistry(config);
    await registry.start();
    const servers = registry.status();
    await registry.stop();
    const ok = servers.every((s) => s.state === "ready") && registry.problems.length === 0;
    process.stdout.write(args.json ? `${JSON.stringify({ servers, problems: registry.problems }, null, 2)}\n` : mcpTable(servers, registry.problems));
    process.exit(ok ? 0 : 1);
  },
});

export const mcpCommand = defineCommand({
  meta: { name: "mcp", description: "The MCP servers lynkr runs for its clients" },
  subCommands: { list: listCommand },
});
