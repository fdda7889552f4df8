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
