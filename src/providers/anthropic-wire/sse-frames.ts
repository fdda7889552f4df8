import { decodeSse, maxUpstreamLineLength, type SseFrame } from "../../anthropic/sse.ts";
import { joinBytes } from "../join-bytes.ts";

// Anthropic's own event stream, split on its bytes. Anthropic (and every compatible server seen
// so far) writes each event as `event: <type>\ndata: <json>\n\n`, which is exactly the frame
// lynkr writes to the client: such a frame keeps the bytes it came in, and goes out as them
// instead of being decoded, re-framed and encoded again. Its data is still decoded (to a string,
// for JSON.parse), since the turn observes every event: usage, stop reason, the answer. The
// first frame of any other form (CRLF line ends, comments, `data:` split over lines, no space
// after the colon, a byte-order mark) hands the rest of the stream to the general decoder.

/** A decoded frame; `raw`: its bytes as received, set only when they are `event: <event>\ndata: <data>\n\n`. */
export interface RawSseFrame extends SseFrame {
  raw?: Uint8Array;
}

/** Fails on bytes that are not UTF-8; a leading U+FEFF stays (mid-stream it is no byte-order mark). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LF = 10;
const CR = 13;

/**
 * The frame in `bytes[start, end)` (its blank line follows at `end`) when it has the one form
 * that passes as bytes; undefined for any other. Decoded once as a whole (two decodes per event
 * cost more than the slices), then checked as text.
 */
function canonicalFrame(bytes: Uint8Array, start: number, end: number): RawSseFrame | undefined {
  // Past the general decoder's bound it is that decoder's to refuse.
  if (end - start > maxUpstreamLineLength) return undefined;
  let text: string;
  try {
    text = strictUtf8.decode(bytes.subarray(start, end));
  } catch {
    // Not UTF-8: the general decoder writes U+FFFD for the bad bytes, and the client must get those.
    return undefined;
  }
  const eventEnd = text.indexOf("\n");
  // One event line, then one data line to the end (no CR gets here: see anthropicSseFrames).
  if (!text.startsWith("event: ") || eventEnd < 0 || !text.startsWith("data: ", eventEnd + 1)) return undefined;
  if (text.indexOf("\n", eventEnd + 1) >= 0) return undefined;
  return { event: text.slice(7, eventEnd), data: text.slice(eventEnd + 7), raw: bytes.subarray(start, end + 2) };
}

/** Where the next `\n\n` starts in `bytes`, searching from `from`; -1 when there is none. */
function blankLineAt(bytes: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(LF, from); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(LF, i + 1)) {
    if (bytes[i + 1] === LF) return i;
  }
  return -1;
}

async function* thenRest(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (first.length > 0) yield first;
  for (;;) {
    const read = await rest.next();
    if (read.done) return;
    yield read.value;
  }
}

/** Frames of `body`; whoever stops reading early closes the upstream body too, as a for-await over it would. */
export async function* anthropicSseFrames(body: AsyncIterable<Uint8Array>): AsyncGenerator<RawSseFrame> {
  const chunks = body[Symbol.asyncIterator]();
  try {
    yield* framesOf(chunks);
  } finally {
    await chunks.return?.();
  }
}

/**
 * Decodes an upstream's SSE bytes into frames, as decodeSse does (frames without data are
 * skipped there too), keeping each canonical frame's bytes in `raw`.
 */
async function* framesOf(chunks: AsyncIterator<Uint8Array>): AsyncGenerator<RawSseFrame> {
  // Bytes of the unfinished frame, kept apart until its blank line arrives (copied once, then).
  let parts: Uint8Array[] = [];
  let partsLength = 0;
  for (;;) {
    const read = await chunks.next();
    if (read.done) break;
    const chunk = read.value;
    // No frame of the one form holds a CR (JSON escapes it in strings): a CR means CRLF or CR line
    // ends, which go to the general decoder from the frame it is in, at once; waiting for a
    // `\n\n` that never comes would hold every event back.
    const crAt = chunk.indexOf(CR);
    if (crAt < 0 && partsLength > 0) {
      // Only the new chunk (and the byte before it) can hold the pending frame's blank line.
      const last = parts[parts.length - 1] as Uint8Array;
      const across = last[last.length - 1] === LF && chunk[0] === LF;
      if (!across && blankLineAt(chunk, 0) < 0) {
        parts.push(chunk);
        partsLength += chunk.length;
        if (partsLength > maxUpstreamLineLength) break;
        continue;
      }
    }
    const crInBytes = crAt < 0 ? -1 : partsLength + crAt;
    parts.push(chunk);
    partsLength += chunk.length;
    const bytes = joinBytes(parts, partsLength);
    let start = 0;
    for (;;) {
      const end = blankLineAt(bytes, start);
      const frame = end < 0 || (crInBytes >= 0 && end > crInBytes) ? undefined : canonicalFrame(bytes, start, end);
      if (!frame) {
        if (end >= 0 || crInBytes >= 0) {
          yield* decodeSse(thenRest(bytes.subarray(start), chunks));
          return;
        }
        break;
      }
      yield frame;
      start = end + 2;
    }
    const rest = bytes.subarray(start);
    parts = rest.length > 0 ? [rest] : [];
    partsLength = rest.length;
    if (partsLength > maxUpstreamLineLength) break;
  }
  // The end, with an event that has no blank line after it, or a frame past the bound so far: the
  // general decoder's rules (and its error) from here.
  if (partsLength > 0) yield* decodeSse(thenRest(joinBytes(parts, partsLength), chunks));
}
