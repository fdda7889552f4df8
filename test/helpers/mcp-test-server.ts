import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

// An MCP server written with the official SDK for the tests: `echo`, `sleep` (to outlast a
// timeout), `crash` (the process dies: restart), `env` (what the child was given), and
// `add_tool` (registers `late` and sends tools/list_changed). Run as a script it serves stdio;
// startHttpMcpServer serves Streamable HTTP on loopback.

export function testMcpServer(): McpServer {
  const server = new McpServer({ name: "lynkr-test", version: "1.0.0" });
  server.registerTool("echo", { description: "Echoes the text back", inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: "text", text: `echo: ${text}` }],
  }));
  server.registerTool("sleep", { description: "Waits ms milliseconds", inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await Bun.sleep(ms);
    return { content: [{ type: "text", text: "slept" }] };
  });
  server.registerTool("crash", { description: "Exits the server process" }, async () => process.exit(3));
  server.registerTool("env", { description: "Names of the environment variables the server sees" }, async () => ({
    content: [{ type: "text", text: Object.keys(process.env).sort().join(",") }],
  }));
  server.registerTool("add_tool", { description: "Adds the tool `late`" }, async () => {
    server.registerTool("late", { description: "Registered after start" }, async () => ({ content: [{ type: "text", text: "late tool" }] }));
    return { content: [{ type: "text", text: "added" }] };
  });
  return server;
}

export interface HttpMcpServer {
  url: string;
  stop(): Promise<void>;
}

/** One Streamable HTTP exchange with a fresh server: stateless use, as the SDK documents it. */
export async function answerMcpRequest(req: Request): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await testMcpServer().connect(transport);
  return transport.handleRequest(req);
}

/** Stateless Streamable HTTP on loopback; `port` to come back on the same one. */
export function startHttpMcpServer(port = 0): HttpMcpServer {
  const http = Bun.serve({ hostname: "127.0.0.1", port, fetch: answerMcpRequest });
  return { url: `http://127.0.0.1:${http.port}/mcp`, stop: () => http.stop(true) };
}

export const mcpTestServerPath = new URL(import.meta.url).pathname;

if (import.meta.main) {
  await testMcpServer().connect(new StdioServerTransport());
}
