import type { Config } from "../config/schema.ts";

export interface Listening {
  url: string;
  port: number;
  /** `force`: close open connections too. */
  stop(force: boolean): Promise<void>;
}

/** Serves `fetch` on HOST:PORT with Bun's server. */
export function listen(fetch: (request: Request, server: Bun.Server<undefined>) => Response | Promise<Response>, settings: Pick<Config, "HOST" | "PORT" | "MAX_REQUEST_BODY_BYTES" | "REQUEST_READ_TIMEOUT_SECONDS">): Listening {
  const server = Bun.serve({
    hostname: settings.HOST,
    port: settings.PORT,
    fetch,
    // The gateway answers oversized bodies itself (413 in Anthropic's shape); Bun's own cap is a backstop.
    maxRequestBodySize: settings.MAX_REQUEST_BODY_BYTES + 1024 * 1024,
    // Bounds reading a request (a stalled body, a slowloris). A messages request lifts it once its
    // body is read (messages-route's bodyRead): Bun counts it against a streamed answer however
    // often that writes, and a generation streams for minutes. Bun closes a socket that has not
    // sent complete headers after its own fixed ~10 s.
    idleTimeout: settings.REQUEST_READ_TIMEOUT_SECONDS,
  });
  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port ?? settings.PORT,
    stop: (force) => server.stop(force),
  };
}
