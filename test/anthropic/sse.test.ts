import { expect, test } from "bun:test";
import { ApiError } from "../../src/anthropic/errors.ts";
import { decodeSse, maxUpstreamLineLength } from "../../src/anthropic/sse.ts";

const mib = 1024 * 1024;

/** A body that sends `chunk` up to `limit` bytes, counting what was pulled. */
function endless(chunk: string, limit: number): { body: AsyncIterable<Uint8Array>; pulled(): number } {
  const bytes = new TextEncoder().encode(chunk);
  let pulled = 0;
  return {
    body: (async function* () {
      while (pulled < limit) {
        pulled += bytes.length;
        yield bytes;
      }
    })(),
    pulled: () => pulled,
  };
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<unknown> {
  try {
    for await (const _frame of decodeSse(body)) {
      // frames are not the point: how far the decoder reads is
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

test("a line that never ends is cut at the cap, not buffered until memory runs out", async () => {
  const upstream = endless("a".repeat(64 * 1024), 64 * mib);
  const error = await drain(upstream.body);
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBe(502);
  expect((error as ApiError).message).toBe("upstream sent a line or event longer than 8 MiB; the stream was cut");
  expect(upstream.pulled()).toBeLessThanOrEqual(maxUpstreamLineLength + 64 * 1024);
});

test("an event of endless short data lines is cut at the same cap", async () => {
  const upstream = endless(`data: ${"b".repeat(1000)}\n`.repeat(64), 64 * mib);
  const error = await drain(upstream.body);
  expect(error).toBeInstanceOf(ApiError);
  expect(upstream.pulled()).toBeLessThanOrEqual(maxUpstreamLineLength + 128 * 1024);
});

test("events under the cap pass", async () => {
  const big = "c".repeat(mib);
  const frames = [];
  const body = (async function* () {
    yield new TextEncoder().encode(`event: x\ndata: ${big}\n\n`);
  })();
  for await (const frame of decodeSse(body)) frames.push(frame);
  expect(frames).toEqual([{ event: "x", data: big }]);
});
