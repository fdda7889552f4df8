// Ollama's NDJSON body → its lines: one JSON object per line, a line possibly split across chunks.

const decoder = new TextDecoder();

export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
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
  }
  const last = (buffer + decoder.decode()).trim();
  if (last) yield last;
}
