import Anthropic from "@anthropic-ai/sdk";
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { McpConnection } from "../../src/mcp/connection.ts";
import { configureLogger } from "../../src/observability/logger.ts";
import { loadMcpConfig } from "../../src/mcp/config.ts";
import { demoServer, writeMcpConfig } from "../helpers/mcp-config.ts";
import { mcpTestServerPath, startHttpMcpServer } from "../helpers/mcp-test-server.ts";
import { runCli, tempDir } from "../helpers/gateway.ts";
import { throughFakeUpstream, anthropicSse } from "../helpers/fake-upstream.ts";

// MCP servers as lynkr runs them: stdio children and Streamable HTTP, restart after a crash,
// tools/list_changed, the children's environment, and a broken server that the gateway reports
// (lynkr mcp list, /health/ready) while it keeps serving.

configureLogger("silent", "json");
const never = new AbortController().signal;
const opened: McpConnection[] = [];

function connect(config: ConstructorParameters<typeof McpConnection>[0]): McpConnection {
  const c = new McpConnection(config, 10_000);
  opened.push(c);
  return c;
}

afterAll(async () => {
  await Promise.all(opened.map((c) => c.stop()));
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await Bun.sleep(50);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

test("a stdio server crashes and is restarted with its tools", async () => {
  const c = connect({ name: "demo", command: process.execPath, args: [mcpTestServerPath], source: "test" });
  await c.start();
  expect(c.state).toBe("ready");
  await c.call("crash", {}, 5_000, never).catch(() => undefined);
  await until(() => c.restarts === 1 && c.state === "ready", "the restart");
  expect((await c.call("echo", { text: "back" }, 5_000, never)).text).toBe("echo: back");
});

test("tools/list_changed: a tool the server adds later is listed", async () => {
  const c = connect({ name: "demo", command: process.execPath, args: [mcpTestServerPath], source: "test" });
  await c.start();
  expect(c.tools.map((t) => t.name)).not.toContain("late");
  await c.call("add_tool", {}, 5_000, never);
  await until(() => c.tools.some((t) => t.name === "late"), "the new tool");
});

test("a stdio child sees its own env and the harmless basics, never lynkr's provider keys", async () => {
  process.env.OPENAI_API_KEY = "sk-must-not-leak";
  try {
    const c = connect({ name: "demo", command: process.execPath, args: [mcpTestServerPath], env: { DEMO_SETTING: "1" }, source: "test" });
    await c.start();
    const names = (await c.call("env", {}, 5_000, never)).text.split(",");
    expect(names).toContain("DEMO_SETTING");
    expect(names).toContain("PATH");
    expect(names).not.toContain("OPENAI_API_KEY");
  } finally {
    delete process.env.OPENAI_API_KEY;
  }
});

test("a Streamable HTTP server", async () => {
  const http = startHttpMcpServer();
  try {
    const c = connect({ name: "web", type: "http", url: http.url, source: "test" });
    await c.start();
    expect(c.status()).toMatchObject({ state: "ready", transport: "http" });
    expect((await c.call("echo", { text: "over http" }, 5_000, never)).text).toBe("echo: over http");
    await c.stop();
  } finally {
    await http.stop();
  }
});

test("an HTTP server that goes away is reconnected once it is back", async () => {
  let http = startHttpMcpServer();
  const port = Number(new URL(http.url).port);
  const c = connect({ name: "web", type: "http", url: http.url, source: "test" });
  try {
    await c.start();
    await http.stop();
    await expect(c.call("echo", { text: "gone" }, 5_000, never)).rejects.toThrow();
    expect(c.state).toBe("failed");
    http = startHttpMcpServer(port);
    await until(() => c.state === "ready", "the reconnect");
    expect((await c.call("echo", { text: "back" }, 5_000, never)).text).toBe("echo: back");
  } finally {
    await http.stop();
  }
});

test("configuration: Claude Code's .mcp.json shape plus manifests; bad files are named, good servers still load", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "one.json"), JSON.stringify({ name: "solo", command: "solo-server" }));
  writeFileSync(join(dir, "lynkr3.json"), JSON.stringify({ servers: [{ id: "git.tools", name: "Git tools", command: "git-mcp", args: ["--stdio"], transport: "stdio" }] }));
  writeFileSync(join(dir, "broken.json"), "{ not json");
  writeFileSync(join(dir, "wrong.json"), JSON.stringify({ mcpServers: { x: { type: "http", url: "ftp://nope" } } }));
  const config = writeMcpConfig({ demo: demoServer(), hidden: { ...demoServer(), offer: false }, off: { ...demoServer(), disabled: true } });
  const { servers, problems } = loadMcpConfig({ LYNKR_MCP_CONFIG: config, MCP_MANIFEST_DIRS: [dir] });
  expect(servers.map((s) => s.name)).toEqual(["demo", "hidden", "git_tools", "solo"]);
  expect(servers[2]).toMatchObject({ command: "git-mcp", args: ["--stdio"] });
  expect(problems.some((p) => p.includes("broken.json") && p.includes("invalid JSON"))).toBe(true);
  expect(problems.some((p) => p.includes("wrong.json") && p.includes("http"))).toBe(true);
  const missing = loadMcpConfig({ LYNKR_MCP_CONFIG: join(dir, "absent.json") });
  expect(missing.problems[0]).toContain("does not exist");
});

test("a server whose binary is missing: a clear error in lynkr mcp list and /health/ready, and the gateway still serves", async () => {
  const config = writeMcpConfig({ demo: demoServer(), ghost: { command: "lynkr-no-such-mcp-server" } });
  const cli = await runCli(["mcp", "list"], { LYNKR_MCP_CONFIG: config });
  expect(cli.code).toBe(1);
  expect(cli.stdout).toContain("✔ demo (stdio) ready");
  expect(cli.stdout).toContain("mcp__demo__echo");
  expect(cli.stdout).toContain("✖ ghost (stdio) failed");
  expect(cli.stdout).toContain('cannot start "lynkr-no-such-mcp-server": command not found');

  await throughFakeUpstream(
    () => new Response(anthropicSse([
      { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "still here" } },
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } },
      { type: "message_stop" },
    ]).join(""), { headers: { "content-type": "text/event-stream" } }),
    { ANTHROPIC_API_KEY: "sk-ant-test", LYNKR_MCP_CONFIG: config },
    async ({ gateway }) => {
      await gateway.gateway.serverTools.mcp.settled();
      const ready = await fetch(`${gateway.url}/health/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { mcp: { servers: { name: string; state: string; error?: string }[] } };
      const ghost = body.mcp.servers.find((s) => s.name === "ghost");
      expect(ghost?.state).toBe("failed");
      expect(ghost?.error).toContain("command not found");
      const metrics = await (await fetch(`${gateway.url}/metrics/prometheus`)).text();
      expect(metrics).toContain('lynkr_mcp_server_up{server="ghost"} 0');
      expect(metrics).toContain('lynkr_mcp_server_up{server="demo"} 1');
      const client = new Anthropic({ baseURL: gateway.url, apiKey: "x" });
      const message = await client.messages.create({ model: "claude", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
      expect(message.content[0]?.type === "text" && message.content[0].text).toBe("still here");
    },
  );
});
