import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { FetchLike, Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import pkg from "../../package.json" with { type: "json" };
import { logger } from "../observability/logger.ts";
import type { McpServerConfig } from "./config.ts";
import { loadedMcpSdk, loadMcpSdk } from "./sdk.ts";

// One MCP server as lynkr holds it: connected (spec initialize through the SDK), its tools
// listed and re-listed on tools/list_changed, restarted with backoff when it dies.

type McpState = "starting" | "ready" | "failed" | "stopped";

export interface McpTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface McpServerStatus {
  name: string;
  transport: "stdio" | "http";
  state: McpState;
  tools: string[];
  /** Why it is not ready, in words an operator can act on. */
  error?: string;
  restarts: number;
}

/** A tool result as lynkr hands it on: text, and whether the server called it an error. */
interface McpCallResult {
  text: string;
  isError: boolean;
}

const backoffMs = (attempt: number) => Math.min(30_000, 500 * 2 ** attempt);
/** Bound on one tool result handed to the model; a server can answer anything. */
const maxResultChars = 200_000;

function describeStartError(config: McpServerConfig, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if ("command" in config && code === "ENOENT") {
    return `cannot start "${config.command}": command not found (check the command and PATH in ${config.source})`;
  }
  if ("command" in config && code === "EACCES") return `cannot start "${config.command}": permission denied`;
  const message = error instanceof Error ? error.message : String(error);
  return "url" in config ? `cannot connect to ${config.url}: ${message}` : `"${config.command}" failed to start: ${message}`;
}

function resultText(result: CallToolResult): string {
  const parts = result.content.map((part) => {
    if (part.type === "text") return part.text;
    if (part.type === "resource" && "text" in part.resource) return String(part.resource.text);
    if (part.type === "resource_link") return `${part.name}: ${part.uri}`;
    return `[${part.type} content omitted]`;
  });
  if (parts.length === 0 && result.structuredContent) parts.push(JSON.stringify(result.structuredContent));
  const text = parts.join("\n");
  return text.length > maxResultChars ? `${text.slice(0, maxResultChars)}\n[truncated by lynkr at ${maxResultChars} characters]` : text;
}

export class McpConnection {
  state: McpState = "starting";
  tools: McpTool[] = [];
  error: string | undefined;
  restarts = 0;
  private client: Client | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private ready: Promise<void> | undefined;
  /** Called when state or tools change (metrics). */
  onChange: (() => void) | undefined;

  constructor(
    readonly config: McpServerConfig,
    private readonly connectTimeoutMs: number,
    /**
     * `restart`: restart with backoff after a failure (the operator's servers); a request's own
     * servers just fail. `fetch`: what an HTTP server is reached with (a request's own servers go
     * through the address guard on every request and redirect).
     */
    private readonly options: { restart: boolean; fetch?: FetchLike } = { restart: true },
  ) {}

  get transportKind(): "stdio" | "http" {
    return "url" in this.config ? "http" : "stdio";
  }

  status(): McpServerStatus {
    return {
      name: this.config.name,
      transport: this.transportKind,
      state: this.state,
      tools: this.tools.map((t) => t.name),
      ...(this.error ? { error: this.error } : {}),
      restarts: this.restarts,
    };
  }

  /** Connects; resolves when ready or failed (never rejects: a broken server must not stop the gateway). */
  start(): Promise<void> {
    this.ready = this.connect();
    return this.ready;
  }

  /** Waits for a start in progress. */
  settled(): Promise<void> {
    return this.ready ?? Promise.resolve();
  }

  private transport(sdk: Awaited<ReturnType<typeof loadMcpSdk>>): Transport {
    const { config } = this;
    const { StreamableHTTPClientTransport, StdioClientTransport, getDefaultEnvironment } = sdk;
    if ("url" in config) {
      return new StreamableHTTPClientTransport(new URL(config.url), {
        requestInit: { headers: config.headers ?? {} },
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      });
    }
    // Children get the SDK's short list of harmless variables (PATH, HOME, USER, …) plus their own
    // `env` from the configuration: never lynkr's environment, which holds provider keys.
    return new StdioClientTransport({
      command: config.command,
      args: config.args ?? [],
      env: { ...getDefaultEnvironment(), ...config.env },
      ...(config.cwd ? { cwd: config.cwd } : {}),
      stderr: "pipe",
    });
  }

  private async connect(): Promise<void> {
    this.state = "starting";
    this.onChange?.();
    const sdk = await loadMcpSdk();
    const client = new sdk.Client({ name: "lynkr", version: pkg.version }, { capabilities: {} });
    const transport = this.transport(sdk);
    let stderrTail = "";
    if (transport instanceof sdk.StdioClientTransport) {
      transport.stderr?.on("data", (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString("utf8")).slice(-2000);
      });
    }
    try {
      await client.connect(transport, { timeout: this.connectTimeoutMs });
      client.setNotificationHandler(sdk.ToolListChangedNotificationSchema, () => this.refreshTools(client));
      this.client = client;
      await this.refreshTools(client);
      this.state = "ready";
      this.error = undefined;
      // A dying child or a dropped session: restart (unless lynkr is stopping).
      client.onclose = () => this.lost(client, stderrTail);
      this.onChange?.();
      logger.info(`mcp server ${this.config.name} ready`, { tools: this.tools.length });
    } catch (error) {
      await client.close().catch(() => undefined);
      this.fail(describeStartError(this.config, error) + (stderrTail.trim() ? ` (stderr: ${stderrTail.trim().slice(-300)})` : ""));
    }
  }

  private async refreshTools(client: Client): Promise<void> {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    // Bounded: a server paging forever must not hold lynkr.
    for (let page = 0; page < 50; page++) {
      const result = await client.listTools(cursor ? { cursor } : undefined, { timeout: this.connectTimeoutMs });
      for (const tool of result.tools) {
        tools.push({ name: tool.name, ...(tool.description ? { description: tool.description } : {}), inputSchema: tool.inputSchema });
      }
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    this.tools = tools;
    this.onChange?.();
  }

  private lost(client: Client, stderrTail: string): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    void client.close().catch(() => undefined);
    this.fail(`the server exited or closed the connection${stderrTail.trim() ? ` (stderr: ${stderrTail.trim().slice(-300)})` : ""}`);
  }

  private fail(reason: string): void {
    this.state = "failed";
    this.error = reason;
    this.tools = [];
    this.onChange?.();
    if (this.stopped || !this.options.restart) return;
    const delay = backoffMs(this.restarts);
    logger.warn(`mcp server ${this.config.name}: ${reason}; restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.ready = this.connect();
    }, delay);
    this.restartTimer.unref?.();
  }

  async call(tool: string, args: Record<string, unknown>, timeoutMs: number, signal: AbortSignal): Promise<McpCallResult> {
    const client = this.client;
    if (!client || this.state !== "ready") throw new Error(`MCP server ${this.config.name} is not ready: ${this.error ?? this.state}`);
    try {
      const result = (await client.callTool({ name: tool, arguments: args }, undefined, { timeout: timeoutMs, signal })) as CallToolResult;
      return { text: resultText(result), isError: result.isError === true };
    } catch (error) {
      // An HTTP server that went away (or forgot the session) says so only on the next call:
      // reconnect as a stdio server is restarted. JSON-RPC errors (timeouts included) are the call's.
      const McpError = loadedMcpSdk()?.McpError;
      if (this.transportKind === "http" && !(McpError && error instanceof McpError) && !signal.aborted) this.lost(client, "");
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    this.state = "stopped";
    await client?.close().catch(() => undefined);
  }
}
