import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { decodeSse, maxUpstreamLineLength, type SseFrame } from "../../../src/anthropic/sse.ts";
import { anthropicSseFrames, type RawSseFrame } from "../../../src/providers/anthropic-wire/sse-frames.ts";
import { anthropicSse, readWire, recordedAnthropicEvents, wireDir } from "../../helpers/fake-upstream.ts";

// The byte splitter must give exactly the general decoder's frames, whatever the chunking, and
// keep the bytes only of frames that are the one form lynkr writes.

const encoder = new TextEncoder();

async function* chunked(bytes: Uint8Array, sizes: (i: number) => number): AsyncGenerator<Uint8Array> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    // Copies, as a socket's chunks are: no frame may rely on one chunk's buffer being another's.
    yield bytes.slice(at, at + size);
    at += size;
  }
}

async function framesOf(bytes: Uint8Array, sizes: (i: number) => number): Promise<RawSseFrame[]> {
  const out: RawSseFrame[] = [];
  for await (const frame of anthropicSseFrames(chunked(bytes, sizes))) out.push(frame);
  return out;
}

async function decoded(bytes: Uint8Array): Promise<SseFrame[]> {
  const out: SseFrame[] = [];
  for await (const frame of decodeSse(chunked(bytes, () => bytes.length))) out.push(frame);
  return out;
}

const withoutRaw = (frames: RawSseFrame[]) => frames.map(({ event, data }) => ({ event, data }));

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts.map((part) => Buffer.from(part))));

/** Every recorded Anthropic stream as the upstream sent it (`.chunks.txt` re-framed as their README says). */
async function recordedStreams(): Promise<[string, Uint8Array<ArrayBuffer>][]> {
  const files = readdirSync(`${wireDir}upstream/anthropic`).filter((f) => f.endsWith(".sse") || f.endsWith(".chunks.txt"));
  expect(files.length).toBeGreaterThanOrEqual(7);
  return Promise.all(
    files.map(async (file): Promise<[string, Uint8Array<ArrayBuffer>]> => {
      const text = file.endsWith(".sse") ? await readWire(`upstream/anthropic/${file}`) : anthropicSse(await recordedAnthropicEvents(file)).join("");
      return [file, encoder.encode(text)];
    }),
  );
}

const splits: [string, (i: number) => number][] = [
  ["in one piece", () => Number.MAX_SAFE_INTEGER],
  ["a byte at a time", () => 1],
  ["in 7-byte pieces", () => 7],
  ["in pieces of 1 to 300 bytes", (i) => 1 + ((i * 7919) % 300)],
];

test("every recorded Anthropic stream, however it is chunked: the general decoder's frames, and their kept bytes put together are the stream byte for byte", async () => {
  for (const [file, bytes] of await recordedStreams()) {
    const expected = await decoded(bytes);
    expect(expected.length).toBeGreaterThan(3);
    for (const [how, sizes] of splits) {
      const frames = await framesOf(bytes, sizes);
      expect({ file, how, frames: withoutRaw(frames) }).toEqual({ file, how, frames: expected });
      expect(frames.every((f) => f.raw !== undefined)).toBe(true);
      expect(concat(frames.map((f) => f.raw as Uint8Array))).toEqual(bytes);
    }
  }
});

const bad = new Uint8Array([0xff, 0xfe]);
const text = (s: string) => encoder.encode(s);
const good = 'event: message_start\ndata: {"type":"message_start"}\n\n';

// Streams that are valid SSE but not the one form: each must decode as decodeSse decodes it.
const oddStreams: [string, Uint8Array][] = [
  ["CRLF line ends", text(`${good}event: ping\r\ndata: {"type":"ping"}\r\n\r\nevent: x\ndata: {}\n\n`)],
  ["a comment line", text(`${good}: keep-alive\n\nevent: ping\ndata: {"type":"ping"}\n\n`)],
  ["a comment inside a frame", text(`${good}event: ping\n: hi\ndata: {"type":"ping"}\n\n`)],
  ["data split over two lines", text(`${good}event: x\ndata: {"a":\ndata: 1}\n\n`)],
  ["no space after the colon", text(`${good}event:ping\ndata:{"type":"ping"}\n\n`)],
  ["data before event", text(`${good}data: {"type":"ping"}\nevent: ping\n\n`)],
  ["data only", text(`${good}data: {"type":"ping"}\n\n`)],
  ["an event without data", text(`${good}event: ping\n\nevent: x\ndata: {}\n\n`)],
  ["a byte-order mark first", concat([new Uint8Array([0xef, 0xbb, 0xbf]), text(good)])],
  ["bytes that are not UTF-8", concat([text(`${good}event: x\ndata: "`), bad, text('"\n\nevent: y\ndata: {}\n\n')])],
  ["blank lines between frames", text(`${good}\n\n${good}`)],
  ["no blank line after the last frame", text(`${good}event: message_stop\ndata: {"type":"message_stop"}\n`)],
  ["no newline at all after the last frame", text(`${good}event: message_stop\ndata: {"type":"message_stop"}`)],
  ["a lone CR ending a line", text(`${good}event: x\rdata: {}\n\n`)],
  ["an empty stream", text("")],
];

test("streams in any other form decode exactly as the general decoder decodes them, however they are chunked", async () => {
  for (const [what, bytes] of oddStreams) {
    const expected = await decoded(bytes);
    for (const [how, sizes] of splits) {
      const frames = await framesOf(bytes, sizes);
      expect({ what, how, frames: withoutRaw(frames) }).toEqual({ what, how, frames: expected });
    }
  }
});

test("a CRLF stream still streams: its first event comes before the upstream sends the next", async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* body(): AsyncGenerator<Uint8Array> {
    yield text(`${good}event: a\r\ndata: {"type":"a"}\r\n\r\n`);
    await gate;
    yield text('event: b\r\ndata: {"type":"b"}\r\n\r\n');
  }
  const frames = anthropicSseFrames(body());
  expect((await frames.next()).value).toMatchObject({ event: "message_start" });
  // Held until the upstream sends more, the read would lose this race (the test then fails, never hangs).
  const second = await Promise.race([frames.next(), Bun.sleep(5_000).then(() => "held back")]);
  expect(second).toEqual({ done: false, value: { event: "a", data: '{"type":"a"}' } });
  release();
  expect((await frames.next()).value).toEqual({ event: "b", data: '{"type":"b"}' });
  expect((await frames.next()).done).toBe(true);
});

test("a reader that stops early closes the upstream body, on the byte path and after handing over alike", async () => {
  for (const stream of [`${good}${good}${good}`, `: comment\n\n${good}${good}`]) {
    let closed = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        for (const part of stream.split(/(?<=\n\n)/)) yield text(part);
        await new Promise(() => {});
      } finally {
        closed = true;
      }
    }
    for await (const frame of anthropicSseFrames(body())) {
      expect(frame.event).toBe("message_start");
      break;
    }
    expect({ stream, closed }).toEqual({ stream, closed: true });
  }
});

test("only frames of the one form keep their bytes; from the first other frame on, none do", async () => {
  const frames = await framesOf(oddStreams[0]?.[1] as Uint8Array, () => Number.MAX_SAFE_INTEGER);
  expect(frames.map((f) => f.raw !== undefined)).toEqual([true, false, false]);
  expect(new TextDecoder().decode(frames[0]?.raw)).toBe(good);
  const notUtf8 = await framesOf(oddStreams[9]?.[1] as Uint8Array, () => Number.MAX_SAFE_INTEGER);
  // The general decoder writes U+FFFD for the bad bytes, and so must the client's frame.
  expect(notUtf8.map((f) => [f.data, f.raw !== undefined])).toEqual([
    ['{"type":"message_start"}', true],
    ['"\uFFFD\uFFFD"', false],
    ["{}", false],
  ]);
});

test("a frame past the decoder's bound fails as the general decoder fails, whether it came in one chunk or many", async () => {
  const huge = text(`${good}event: x\ndata: "${"a".repeat(maxUpstreamLineLength)}"\n\n`);
  for (const sizes of [() => Number.MAX_SAFE_INTEGER, () => 64 * 1024]) {
    let failure: unknown;
    try {
      await framesOf(huge, sizes);
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).toContain("longer than 8 MiB");
  }
});
