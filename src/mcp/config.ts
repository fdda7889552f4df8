import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { lynkrDir } from "../config/lynkr-dir.ts";

// Which MCP servers the operator runs: Claude Code's own `.mcp.json` shape at LYNKR_MCP_CONFIG
// (default ~/.lynkr/mcp.json), plus manifests (`*.json`) in MCP_MANIFEST_DIRS, each that same
// shape, one server with a `name`, or a Lynkr 3.x manifest (`{"servers":[{id,command,args,env}]}`). Entries may say `"offer": false` to keep their tools
// off requests (they stay listed and usable by name in `lynkr mcp list`).

const serverName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "server names are letters, digits, _ and -, at most 64" });

const common = {
  /** Offer this server's tools on every request (default true). */
  offer: z.boolean().optional(),
  disabled: z.boolean().optional(),
};

const stdioServerSchema = z.object({
  type: z.literal("stdio").optional(),
  command: z.string().min(1),
  args: z.array(z.string()).max(256).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  ...common,
});

const httpServerSchema = z.object({
  type: z.literal("http"),
  url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }),
  headers: z.record(z.string(), z.string()).optional(),
  ...common,
});

const serverSchema = z.union([stdioServerSchema, httpServerSchema]);
const mcpJsonSchema = z.object({ mcpServers: z.record(serverName, serverSchema) });

// Lynkr 3.x manifests: `{"servers":[…]}` or a bare list, each a stdio server named by id, name or label.
const lynkrEntrySchema = z
  .looseObject({
    id: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    label: z.string().min(1).optional(),
    command: z.string().min(1),
    args: z.array(z.string()).max(256).optional(),
    env: z.record(z.string(), z.string()).optional(),
    transport: z.literal("stdio", { error: 'only "stdio" servers can be described in a Lynkr manifest' }).optional(),
  })
  .refine((e) => (e.id ?? e.name ?? e.label) !== undefined, { error: "each server needs an id, name or label" });
const lynkrManifestSchema = z.union([z.object({ servers: z.array(lynkrEntrySchema).max(100) }), z.array(lynkrEntrySchema).max(100)]);

const manifestSchema = z.union([mcpJsonSchema, lynkrManifestSchema, z.intersection(z.object({ name: serverName }), serverSchema)]);

/** A Lynkr id as a server name usable in `mcp__<server>__<tool>`, the way Claude Code normalises names. */
function lynkrServerName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

type StdioServerConfig = z.infer<typeof stdioServerSchema>;
type HttpServerConfig = z.infer<typeof httpServerSchema>;
export type McpServerConfig = (StdioServerConfig | HttpServerConfig) & { name: string; source: string };

interface McpConfigResult {
  servers: McpServerConfig[];
  /** Files that could not be used, each with why; the servers of the others still run. */
  problems: string[];
}

export interface McpConfigSources {
  LYNKR_MCP_CONFIG?: string;
  MCP_MANIFEST_DIRS?: string[];
  HOME?: string;
}

/** Manifests are small; a huge file is a mistake, not configuration. */
const maxFileBytes = 1024 * 1024;

function readServers(path: string): { servers: McpServerConfig[]; problem?: string } {
  try {
    if (statSync(path).size > maxFileBytes) return { servers: [], problem: `${path}: larger than 1 MB` };
    const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ");
      return { servers: [], problem: `${path}: not an MCP configuration ({"mcpServers":{name:{command,args,env}|{type:"http",url,headers}}}): ${issues}` };
    }
    const data = parsed.data;
    const lynkrEntries = Array.isArray(data) ? data : "servers" in data ? data.servers : undefined;
    if (lynkrEntries) {
      return {
        servers: lynkrEntries.map((e) => ({
          name: lynkrServerName(String(e.id ?? e.name ?? e.label)),
          command: e.command,
          ...(e.args ? { args: e.args } : {}),
          ...(e.env ? { env: e.env } : {}),
          source: path,
        })),
      };
    }
    if ("mcpServers" in data) {
      return { servers: Object.entries(data.mcpServers).map(([name, server]) => ({ ...server, name, source: path })) };
    }
    return { servers: [{ ...data, source: path } as McpServerConfig] };
  } catch (error) {
    const reason = error instanceof SyntaxError ? `invalid JSON (${error.message})` : ((error as NodeJS.ErrnoException).code ?? String(error));
    return { servers: [], problem: `${path}: ${reason}` };
  }
}

/** The configured servers; a name defined twice keeps its first definition (the config file wins over manifests). */
export function loadMcpConfig(sources: McpConfigSources): McpConfigResult {
  const files: string[] = [];
  const configPath = sources.LYNKR_MCP_CONFIG ? resolve(sources.LYNKR_MCP_CONFIG) : join(lynkrDir(sources.HOME), "mcp.json");
  const problems: string[] = [];
  // The default file is optional; a file the operator named must exist.
  if (existsSync(configPath)) files.push(configPath);
  else if (sources.LYNKR_MCP_CONFIG) problems.push(`${configPath}: LYNKR_MCP_CONFIG names a file that does not exist`);
  for (const dir of sources.MCP_MANIFEST_DIRS ?? []) {
    try {
      for (const entry of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) files.push(join(dir, entry));
    } catch (error) {
      problems.push(`${dir}: cannot read MCP_MANIFEST_DIRS folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  const servers = new Map<string, McpServerConfig>();
  for (const file of files) {
    const result = readServers(file);
    if (result.problem) problems.push(result.problem);
    for (const server of result.servers) {
      if (servers.has(server.name)) problems.push(`${file}: server "${server.name}" is already defined in ${servers.get(server.name)?.source}; ignored`);
      else if (!server.disabled) servers.set(server.name, server);
    }
  }
  return { servers: [...servers.values()], problems };
}
