import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { mcpTestServerPath } from "./mcp-test-server.ts";
import { tempDir } from "./gateway.ts";

/** An mcp.json (Claude Code's shape) in a temp folder; `demo` is the SDK test server over stdio. */
export function writeMcpConfig(servers: Record<string, unknown> = { demo: demoServer() }): string {
  const path = join(tempDir("lynkr-mcp-"), "mcp.json");
  writeFileSync(path, JSON.stringify({ mcpServers: servers }));
  return path;
}

export function demoServer(env: Record<string, string> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [mcpTestServerPath], env };
}
