import { expect, test } from "bun:test";
import type { Frame } from "../../src/pipeline/turn.ts";
import { sseBody } from "../../src/server/sse-body.ts";

const decoder = new TextDecoder();

function source(count: number, padding = "") {
  let pulled = 0;
  let returned = false;
  const events: AsyncIterator<Frame> = {
    next: async () => (pulled < count ? { done: false, value: { type: "content_block_delta", data: `{"n":${pulled++}${padding}}` } } : { done: true, value: undefined }),
    return: async () => {
      returned = true;
      return { done: true, value: undefined };
    },
  };
  return { events, pulled: () => pulled, returned: () => returned };
}

function options() {
  const calls = { closed: 0, aborted: 0 };
  return { calls, options: { pingIntervalMs: 60_000, onClose: () => void calls.closed++, abort: () => void calls.aborted++ } };
}

test("each frame goes out as one SSE event, in order, and the body closes once", async () => {
  const { events } = source(3);
  const { calls, options: o } = options();
  const text = await new Response(sseBody(events, o)).text();
  expect(text).toBe('event: content_block_delta\ndata: {"n":0}\n\nevent: content_block_delta\ndata: {"n":1}\n\nevent: content_block_delta\ndata: {"n":2}\n\n');
  expect(calls).toEqual({ closed: 1, aborted: 0 });
});

test("a frame that carries the upstream's bytes goes out as those bytes, not re-framed", async () => {
  // Padding inside the data line, as Anthropic writes it: the bytes win over the type and data.
  const bytes = new TextEncoder().encode('event: message_stop\ndata: {"type":"message_stop"   }\n\n');
  const frames: Frame[] = [{ type: "message_stop", data: '{"type":"message_stop"}', bytes }, { type: "ping", data: "{}" }];
  const events: AsyncIterator<Frame> = { next: async () => (frames.length > 0 ? { done: false, value: frames.shift() as Frame } : { done: true, value: undefined }) };
  const text = await new Response(sseBody(events, options().options)).text();
  expect(text).toBe('event: message_stop\ndata: {"type":"message_stop"   }\n\nevent: ping\ndata: {}\n\n');
});

test("a client that does not read holds the upstream back: no more than the 64 KB queue is read ahead of it", async () => {
  // 1,000 events of 1 KB: a megabyte the upstream would send.
  const src = source(1000, `,"pad":"${"x".repeat(1000)}"`);
  const reader = sseBody(src.events, options().options).getReader();
  expect(decoder.decode((await reader.read()).value)).toContain('"n":0');
  await Bun.sleep(20);
  expect(src.pulled()).toBeGreaterThan(1);
  expect(src.pulled()).toBeLessThanOrEqual(70);
  await reader.cancel();
});

test("a client that goes away aborts the upstream and ends the events, once", async () => {
  const src = source(1000);
  const { calls, options: o } = options();
  const reader = sseBody(src.events, o).getReader();
  await reader.read();
  await reader.cancel();
  expect(calls).toEqual({ closed: 1, aborted: 1 });
  expect(src.returned()).toBe(true);
});

test("while the upstream is quiet, pings keep the connection alive", async () => {
  let release: () => void = () => {};
  const events: AsyncIterator<Frame> = {
    next: () => new Promise((resolve) => (release = () => resolve({ done: true, value: undefined }))),
  };
  const reader = sseBody(events, { pingIntervalMs: 10, onClose: () => {}, abort: () => {} }).getReader();
  expect(decoder.decode((await reader.read()).value)).toBe('event: ping\ndata: {"type": "ping"}\n\n');
  release();
  await reader.cancel();
});
