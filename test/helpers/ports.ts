/** A loopback URL on which nothing listens: connecting to it is refused at once. */
export function refusedUrl(): string {
  return `http://127.0.0.1:${freePort()}`;
}

/** A loopback port nothing listens on now, for a server the test starts itself. */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** A real server a test starts on 127.0.0.1 (Redis, PostgreSQL from Debian's packages). */
export interface LoopbackServer {
  url: string;
  port: number;
  /** Stops it (the fault tests' "server went away"); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}
