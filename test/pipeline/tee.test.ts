import { expect, test } from "bun:test";
import { Outcomes, type TurnOutcome } from "../../src/pipeline/outcome.ts";
import { teeCached, teeUpstream } from "../../src/pipeline/tee.ts";
import { PromptKey } from "../../src/cache/key.ts";
import { configureLogger } from "../../src/observability/logger.ts";
import type { Frame } from "../../src/pipeline/turn.ts";
import { answerOf, contextFor, request, textEvents, turnFor } from "./turn-fixture.ts";

configureLogger("silent", "json");

function outcomes() {
  const bus = new Outcomes();
  const seen: TurnOutcome[] = [];
  bus.subscribe("test", (o) => seen.push(o));
  return { bus, seen, next: async () => { await Bun.sleep(5); return seen; } };
}

test("a streamed answer passes as frames, each serialized once, is charged before message_stop goes out, and ends in one outcome with the whole message", async () => {
  const { bus, next } = outcomes();
  const turn = turnFor(request({ stream: true }));
  turn.cacheKey = new PromptKey(turn.request, "s");
  const settledAfter: string[] = [];
  let lastFrame = "";
  turn.settle = () => {
    settledAfter.push(lastFrame);
    return undefined;
  };
  const result = teeUpstream(turn, answerOf(textEvents("hello")), bus);
  expect(result.route?.provider.name).toBe("anthropic");
  expect(result.headers).toEqual({ "anthropic-ratelimit-requests-remaining": "9" });
  const frames: Frame[] = [];
  for await (const frame of result.events) {
    frames.push(frame);
    lastFrame = frame.type;
  }
  // Settled while message_stop was being handed over, before the server could write it.
  expect(settledAfter).toEqual(["message_delta"]);
  expect(frames.map((f) => f.type)).toEqual(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
  expect(JSON.parse(frames[2]?.data ?? "")).toMatchObject({ delta: { text: "hello" } });
  const [outcome, ...more] = await next();
  expect(more).toEqual([]);
  expect(outcome).toMatchObject({ status: 200, stream: true, cached: false, response: { content: [{ type: "text", text: "hello" }], stop_reason: "end_turn" } });
  // With the cache on, the frames as sent are kept for a byte-identical replay.
  expect(outcome?.frames).toEqual(frames);
  expect(outcome?.firstByteMs).toBeGreaterThanOrEqual(0);
});

test("a stream that stops before message_stop ends with an error event, and the outcome says so", async () => {
  const { bus, next } = outcomes();
  const events = textEvents().slice(0, 3);
  const frames = await Array.fromAsync(teeUpstream(turnFor(request({ stream: true })), answerOf(events), bus).events);
  expect(frames.at(-1)).toEqual({ type: "error", data: JSON.stringify({ type: "error", error: { type: "api_error", message: "upstream stream ended before message_stop" } }) });
  const [outcome] = await next();
  expect(outcome).toMatchObject({ status: 500, error: { type: "api_error" }, response: { content: [{ type: "text", text: "hi" }] } });
});

test("an upstream that fails mid-stream becomes an error event, never a thrown error", async () => {
  const { bus, next } = outcomes();
  const frames = await Array.fromAsync(teeUpstream(turnFor(request({ stream: true })), answerOf(textEvents().slice(0, 2), { failAfter: new Error("socket hang up") }), bus).events);
  expect(frames.at(-1)?.type).toBe("error");
  expect((await next())[0]?.status).toBe(500);
});

test("a client that goes away ends the turn as 499 and releases the upstream", async () => {
  const { bus, next } = outcomes();
  const answer = answerOf(textEvents());
  const events = teeUpstream(turnFor(request({ stream: true })), answer, bus).events;
  await events.next();
  await events.return?.();
  expect(answer.returned()).toBe(true);
  expect((await events.next()).done).toBe(true);
  const seen = await next();
  expect(seen).toHaveLength(1);
  expect(seen[0]?.status).toBe(499);
});

test("a turn that is not streamed is answered as one message, kept once in the outcome", async () => {
  const { bus, next } = outcomes();
  const message = await teeUpstream(turnFor(), answerOf(textEvents("whole")), bus).message();
  expect(message).toMatchObject({ type: "message", content: [{ type: "text", text: "whole" }] });
  const [outcome] = await next();
  expect(outcome?.response).toBe(message);
  expect(outcome?.frames).toBeUndefined();
  expect(outcome?.firstByteMs).toBeUndefined();
});

test("a cached answer replays its frames as they were first sent, and spends nothing", async () => {
  const { bus, next } = outcomes();
  const message = await teeUpstream(turnFor(), answerOf(textEvents("again", "claude-3-opus-20240229")), bus).message();
  await next();
  const frames = [{ type: "message_start", data: '{"type":"message_start"}' }];
  const turn = turnFor(request({ stream: true }), contextFor());
  const settled: unknown[] = [];
  turn.settle = (answer) => {
    settled.push(answer);
    return undefined;
  };
  const result = teeCached(turn, { message, frames, fingerprint: 1, expiresAt: Date.now() + 1000 }, bus);
  expect(result.cached).toBe(true);
  expect(result.route).toBeUndefined();
  expect(await Array.fromAsync(result.events)).toEqual(frames);
  const seen = await next();
  expect(seen[1]).toMatchObject({ cached: true, status: 200 });
  expect(settled).toEqual([{ response: message, provider: { name: "cache", kind: "" }, cached: true }]);
});
