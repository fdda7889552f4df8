import { llamaCppEndpoint } from "./sections/openai-family.ts";
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
  const listensOnLoopback = loopbackHosts.has(listenHost) || listenHost === "0.0.0.0" || listenHost === "::";
  return host === listenHost || (listensOnLoopback && loopbackHosts.has(host));
}

/** Upstream URL variables, by the provider they serve; provider modules register theirs here. */
export const upstreamUrlVariables: Record<string, (config: Config) => string | undefined> = {
  ANTHROPIC_UPSTREAM_URL: (c) => (c.MODEL_PROVIDER === "anthropic" ? c.ANTHROPIC_UPSTREAM_URL : undefined),
  AZURE_ANTHROPIC_ENDPOINT: (c) => c.AZURE_ANTHROPIC_ENDPOINT,
  OPENAI_ENDPOINT: (c) => (c.MODEL_PROVIDER === "openai" ? c.OPENAI_ENDPOINT : undefined),
  AZURE_OPENAI_ENDPOINT: (c) => c.AZURE_OPENAI_ENDPOINT,
  OPENROUTER_ENDPOINT: (c) => (c.MODEL_PROVIDER === "openrouter" ? c.OPENROUTER_ENDPOINT : undefined),
  DATABRICKS_API_BASE: (c) => c.DATABRICKS_API_BASE,
  // llama-server's default port is lynkr's too (8080): with both defaults, start-up stops here.
  LLAMACPP_ENDPOINT: (c) => (c.MODEL_PROVIDER === "llamacpp" || c.LLAMACPP_ENDPOINT ? llamaCppEndpoint(c) : undefined),
  OLLAMA_ENDPOINT: (c) => (c.MODEL_PROVIDER === "ollama" || c.PREFER_OLLAMA ? c.OLLAMA_ENDPOINT : undefined),
};

export function selfLoopProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const [name, read] of Object.entries(upstreamUrlVariables)) {
    const url = read(config);
    if (url && pointsAtSelf(url, config)) {
      problems.push(
        `${name}=${JSON.stringify(url)}: points at lynkr's own address ${config.HOST}:${config.PORT}; every request would call itself. Use another PORT for lynkr or the upstream's real address`,
      );
    }
  }
  return problems;
}
