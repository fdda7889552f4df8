import type { ProviderName } from "./provider-names.ts";
import { providerUrlVariable } from "./provider-settings.ts";
import type { Config } from "./schema.ts";

const loopbackHosts = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"]);

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** Whether `url` would reach lynkr's own listener, which would make every request call itself. */
export function pointsAtSelf(url: string, config: Pick<Config, "HOST" | "PORT">): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (defaultPort(parsed) !== config.PORT) return false;
  const host = parsed.hostname.toLowerCase();
  const listenHost = config.HOST.toLowerCase();
  const listensOnLoopback = loopbackHosts.has(listenHost) || listenHost === "::";
  return host === listenHost || (listensOnLoopback && loopbackHosts.has(host));
}

/** A provider requests can reach: its routing name and kind, the address it calls, the settings it is built from. */
export interface Upstream {
  name: string;
  kind: ProviderName;
  endpoint: string;
  config: Config;
}

export interface SelfLoop {
  problem: string;
  fix: string;
}

/** Why `upstream` would call lynkr's own listener, naming the variable to change; undefined when it does not. */
export function selfLoop(upstream: Upstream, listener: Pick<Config, "HOST" | "PORT">): SelfLoop | undefined {
  if (!pointsAtSelf(upstream.endpoint, listener)) return undefined;
  const variable = providerUrlVariable(upstream.kind);
  // A named provider from the routing file may have the variable from the environment or its own entry.
  const where = upstream.name === upstream.kind ? variable : `provider ${upstream.name}: ${variable}`;
  const value = upstream.config[variable] ?? upstream.endpoint;
  return {
    problem: `${where}=${JSON.stringify(value)}: points at lynkr's own address ${listener.HOST}:${listener.PORT}; every request would call itself`,
    fix: "Use another PORT for lynkr or the upstream's real address",
  };
}
