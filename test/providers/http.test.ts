import { expect, test } from "bun:test";
import { ApiError } from "../../src/anthropic/errors.ts";
import { ClientAbortedError, readBody } from "../../src/providers/http.ts";

// The upstream's silence, not the reader's: readBody's idle limit counts only while a read waits.

const idleMs = 100;
const chunk = new TextEncoder().encode("event: ping\ndata: {}\n\n");

/** A body that sends `count` chunks, then (unless `end`) nothing more. */
function body(count: number, end = true): Response {
  let sent = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent < count) {
          sent++;
          controller.enqueue(chunk);
        } else if (end) controller.close();
        // else: silent from here on
      },
    }),
  );
}

test("a reader that pauses far longer than the idle limit between reads still gets every chunk", async () => {
  let got = 0;
  for await (const _ of readBody(body(3), "up", idleMs, new AbortController().signal)) {
    got++;
    await Bun.sleep(idleMs * 4);
  }
  expect(got).toBe(3);
});

test("an upstream silent past the idle limit mid-stream fails with a 504 naming it, after what it sent", async () => {
  let got = 0;
  let failure: unknown;
  try {
    for await (const _ of readBody(body(2, false), "up (http://x)", idleMs, new AbortController().signal)) got++;
  } catch (error) {
    failure = error;
  }
  expect(got).toBe(2);
  expect(failure).toBeInstanceOf(ApiError);
  expect((failure as ApiError).status).toBe(504);
  expect((failure as ApiError).message).toBe(`upstream up (http://x) sent nothing for ${idleMs} ms mid-stream`);
});

test("a client gone while the upstream is silent is a client abort, not a stall", async () => {
  const abort = new AbortController();
  let failure: unknown;
  try {
    for await (const _ of readBody(body(1, false), "up", idleMs, abort.signal)) abort.abort();
  } catch (error) {
    failure = error;
  }
  expect(failure).toBeInstanceOf(ClientAbortedError);
});
