import { mcpRegistry } from "../agent/services.ts";
import type { Config } from "../config/schema.ts";
import { fail, pass, type CheckResult } from "./types.ts";

// The operator's MCP servers, started as `lynkr start` would start them: each one lists its
// tools, or says why it cannot. Nothing configured: no line (MCP is optional). Stopped however
// starting went, so no child server outlives the check.

export async function checkMcpServers(config: Config): Promise<CheckResult[]> {
  const registry = mcpRegistry(config);
  let servers;
  try {
    await registry.start();
    servers = registry.connections.map((c) => ({ ...c.status(), source: c.config.source }));
  } finally {
    await registry.stop();
  }
  return [
    ...servers.map((s) => {
      const title = `MCP server ${s.name}`;
      if (s.state === "ready") return pass(`mcp:${s.name}`, title, `${s.transport}: ${s.tools.length} tool(s)${s.tools.length > 0 ? `: ${s.tools.join(", ")}` : ""}`);
      return fail(`mcp:${s.name}`, title, `${s.transport}: ${s.error ?? s.state}`, `fix its entry in ${s.source} (README: MCP); \`lynkr mcp list\` shows it again`);
    }),
    ...registry.problems.map((problem) => fail("mcp-config", "MCP configuration", problem, "fix the file named here (README: MCP)")),
  ];
}
