import { expect, test } from "bun:test";
import type { MessagesRequest } from "../../src/anthropic/schema.ts";
import type { ServerToolServices } from "../../src/agent/services.ts";
import { requestTools } from "../../src/agent/toolset.ts";
import { McpRegistry } from "../../src/mcp/registry.ts";
import { isPrivateAddress, type AddressGuard } from "../../src/tools/address-guard.ts";
import { answerMcpRequest } from "../helpers/mcp-test-server.ts";

// A request's own mcp_servers (Anthropic's MCP connector) are reached through the address guard
// on every request the MCP SDK sends, redirects included, not only at the first look-up.
// 127.0.0.2 plays a public address (loopback answers on all of 127/8): no test leaves the machine.

const stagePublic = "127.0.0.2";
const isBlocked = (a: string) => a !== stagePublic && isPrivateAddress(a);

function services(guard: AddressGuard): ServerToolServices {
  return {
    mcp: new McpRegistry([], [], 5_000),
    policy: { maxSteps: 5, maxToolCalls: 10, toolTimeoutMs: 5_000, maxDurationMs: 60_000, disallowed: [] },
    search: { engine: undefined, maxResults: 5 },
    fetch: { allowPrivate: false, maxBytes: 1_000_000, maxChars: 100_000, guard },
    onToolCall: () => undefined,
  };
}

function connectorRequest(url: string): MessagesRequest {
  return { model: "gpt-4o", max_tokens: 10, mcp_servers: [{ type: "url", name: "remote", url }], messages: [{ role: "user", content: "hi" }] };
}

/** The "public" MCP server, which moved /old to /mcp (a same-origin redirect the SDK follows). */
function startPublicServer(): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: stagePublic,
    port: 0,
    fetch: (req) => (new URL(req.url).pathname === "/old" ? new Response(null, { status: 307, headers: { location: "/mcp" } }) : answerMcpRequest(req)),
  });
}

test("a connector server under a host name is connected at the checked address, through its redirect", async () => {
  const server = startPublicServer();
  try {
    const guard: AddressGuard = { resolve: async () => [stagePublic], isBlocked };
    const tools = await requestTools(connectorRequest(`http://mcp.lynkr.test:${server.port}/old`), services(guard), { anthropicOnly: false });
    try {
      expect([...(tools?.tools.keys() ?? [])]).toContain("mcp__remote__echo");
      const echo = tools?.tools.get("mcp__remote__echo");
      const ran = await echo?.run("mcptoolu_1", { text: "pinned" }, new AbortController().signal);
      expect(JSON.stringify(ran?.result)).toContain("echo: pinned");
    } finally {
      await tools?.close();
    }
  } finally {
    server.stop(true);
  }
});

test("DNS rebinding after the first look-up cannot move a connector server's requests to a private address", async () => {
  const server = startPublicServer();
  const inside: string[] = [];
  const privateSide = Bun.serve({ hostname: "127.0.0.1", port: server.port, fetch: (req) => (inside.push(req.url), answerMcpRequest(req)) });
  try {
    let lookups = 0;
    const guard: AddressGuard = { resolve: async () => (lookups++ === 0 ? [stagePublic] : ["127.0.0.1"]), isBlocked };
    const attempt = requestTools(connectorRequest(`http://mcp.lynkr.test:${server.port}/mcp`), services(guard), { anthropicOnly: false });
    await expect(attempt).rejects.toThrow("resolves to 127.0.0.1");
    expect(lookups).toBeGreaterThan(1);
    expect(inside).toEqual([]);
  } finally {
    server.stop(true);
    privateSide.stop(true);
  }
});
