import { ApiError } from "./errors.ts";

// Server-Sent Events decoding. Upstreams (Anthropic and OpenAI-compatible) speak SSE;
// the decoder follows the WHATWG event-stream rules so that chunks split at any byte, CRLF
// line ends and comment lines (": OPENROUTER PROCESSING") all decode the same.

/**
 * Longest line (and SSE event) accepted from an upstream, in characters. Real events are a few
 * KiB; without a cap an upstream that never sends a newline grows the buffer until memory runs out.
 */
export const maxUpstreamLineLength = 8 * 1024 * 1024;

export function lineTooLong(): ApiError {
  return new ApiError(`upstream sent a line or event longer than ${maxUpstreamLineLength / 1024 / 1024} MiB; the stream was cut`, { status: 502 });
}

export interface SseFrame {
  event: string | undefined;
  data: string;
}

/** Decodes an SSE byte stream into frames; frames without data (comments, keep-alives) are skipped. */
export async function* decodeSse(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  let dataLength = 0;
  let hasData = false;
  // Where the search for the unfinished line's end resumes: a long line is scanned once, not again with every chunk.
  let scanFrom = 0;

  function* takeLines(final: boolean): Generator<SseFrame> {
    let start = 0;
    for (;;) {
      let end = -1;
      let next = -1;
      for (let i = Math.max(start, scanFrom); i < buffer.length; i++) {
        const ch = buffer.charCodeAt(i);
        if (ch === 10) {
          end = i;
          next = i + 1;
          break;
        }
        if (ch === 13) {
          // A CR at the very end may be the first half of a CRLF still in flight.
          if (i + 1 === buffer.length && !final) break;
          end = i;
          next = buffer.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
          break;
        }
      }
      if (end < 0) break;
      const line = buffer.slice(start, end);
      start = next;
      if (line === "") {
        if (hasData) yield { event, data: data.join("\n") };
        event = undefined;
        data = [];
        dataLength = 0;
        hasData = false;
        continue;
      }
      if (line.charCodeAt(0) === 58) continue; // ":" comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === "data") {
        dataLength += value.length + 1;
        if (dataLength > maxUpstreamLineLength) throw lineTooLong();
        data.push(value);
        hasData = true;
      } else if (field === "event") {
        event = value;
      }
    }
    buffer = buffer.slice(start);
    // Less one: a CR at the end may still become a CRLF.
    scanFrom = Math.max(0, buffer.length - 1);
  }

  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* takeLines(false);
    if (buffer.length > maxUpstreamLineLength) throw lineTooLong();
  }
  buffer += decoder.decode();
  if (buffer.length > 0) buffer += "\n";
  yield* takeLines(true);
  // A stream that ends without the blank line after its last event still delivers that event.
  if (hasData) yield { event, data: data.join("\n") };
}
