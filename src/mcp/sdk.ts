// The MCP SDK, loaded when the first server connects: its modules (zod schemas for every
// message, ajv, cross-spawn) took ~25 ms and several MB at every start, and most gateways run
// no MCP server.

type Sdk = typeof import("@modelcontextprotocol/sdk/client/index.js") &
  typeof import("@modelcontextprotocol/sdk/client/stdio.js") &
  typeof import("@modelcontextprotocol/sdk/client/streamableHttp.js") &
  typeof import("@modelcontextprotocol/sdk/types.js");

let loading: Promise<Sdk> | undefined;
let loaded: Sdk | undefined;

export function loadMcpSdk(): Promise<Sdk> {
  loading ??= Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/stdio.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]).then(([client, stdio, http, types]) => (loaded = { ...client, ...stdio, ...http, ...types }));
  return loading;
}

/** The SDK once a connection loaded it (a connected client implies it is). */
export function loadedMcpSdk(): Sdk | undefined {
  return loaded;
}
