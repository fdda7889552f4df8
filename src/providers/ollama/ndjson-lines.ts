import { lineTooLong, maxUpstreamLineLength } from "../../anthropic/sse.ts";

// Ollama's NDJSON body → its lines: one JSON object per line, a line possibly split across chunks,
// and at most maxUpstreamLineLength long (an upstream that never sends a newline is cut there).

export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  // One decoder per stream: a streaming decoder holds the partial character of its own stream.
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
      newline = buffer.indexOf("\n");
    }
    if (buffer.length > maxUpstreamLineLength) throw lineTooLong();
  }
  const last = (buffer + decoder.decode()).trim();
  if (last) yield last;
}
