import type { Config } from "../config/schema.ts";

export interface Listening {
  url: string;
  port: number;
  /** `force`: close open connections too. */
  stop(force: boolean): Promise<void>;
}

/** Serves `fetch` on HOST:PORT with Bun's server. */
export function listen(fetch: (request: Request, server: Bun.Server<undefined>) => Response | Promise<Response>, settings: Pick<Config, "HOST" | "PORT" | "MAX_REQUEST_BODY_BYTES">): Listening {
  const server = Bun.serve({
    hostname: settings.HOST,
    port: settings.PORT,
    fetch,
    // The gateway answers oversized bodies itself (413 in Anthropic's shape); Bun's own cap is a backstop.
    maxRequestBodySize: settings.MAX_REQUEST_BODY_BYTES + 1024 * 1024,
    // Long generations stream for minutes with pings in between; never cut them for idleness.
    idleTimeout: 0,
  });
  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port ?? settings.PORT,
    stop: (force) => server.stop(force),
  };
}
