/** A loopback URL on which nothing listens: connecting to it is refused at once. */
export function refusedUrl(): string {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return `http://127.0.0.1:${port}`;
}
