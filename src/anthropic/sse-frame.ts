// Server-sent event framing of the Messages API stream: `event: <type>` and one `data:` line.

const encoder = new TextEncoder();

/** Anthropic's keep-alive, sent while the upstream is quiet. */
export const pingFrame = encoder.encode('event: ping\ndata: {"type": "ping"}\n\n');

export function sseFrame(type: string, data: string): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${data}\n\n`);
}
