import { MessageAccumulator } from "../anthropic/accumulate.ts";
import { type AnthropicError, ApiError, streamErrorOf } from "../anthropic/errors.ts";
import { messageToEvents } from "../anthropic/message-events.ts";
import type { Message, StreamEvent } from "../anthropic/schema.ts";
import { toAnthropicError } from "../anthropic/to-anthropic-error.ts";
import type { CacheEntry, CachedFrame } from "../cache/prompt-cache.ts";
import { rawData, rawFrame, type ForwardedEvent } from "../providers/types.ts";
import { RoutedError, type Answer } from "../routing/call-route.ts";
import type { Ending, Outcomes } from "./outcome.ts";
import type { Frame, Turn, TurnResult } from "./turn.ts";

// The last stage of a turn: the answer goes to the client as frames (or one message) and, as
// it passes, is accumulated once into the turn's outcome, which is emitted when it ends —
// finished, failed, or abandoned by the client.

const finished: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** An event's `data:` text: Anthropic-wire events keep the upstream's exact text. */
function dataOf(event: ForwardedEvent): string {
  return event[rawData] ?? JSON.stringify(event);
}

/** The event's frame; with the upstream's own bytes where they are the frame lynkr would write. */
function frameOf(event: ForwardedEvent, data: string): Frame {
  const bytes = event[rawFrame];
  return bytes ? { type: event.type, data, bytes } : { type: event.type, data };
}

function errorFrame(error: AnthropicError): Frame {
  return { type: "error", data: JSON.stringify({ type: "error", error: { type: error.type, message: error.message } }) };
}

function iterable<T>(next: () => Promise<IteratorResult<T, undefined>>, stop: () => void): AsyncIterableIterator<T> {
  const it: AsyncIterableIterator<T> = {
    next,
    return: () => {
      stop();
      return Promise.resolve(finished);
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/** An upstream's answer: events pass through as they come. */
export function teeUpstream(turn: Turn, answer: Answer, outcomes: Outcomes): TurnResult {
  const { route } = answer;
  const { requestId, signal } = turn.ctx;
  const acc = new MessageAccumulator();
  const soFar = () => (acc.started ? acc.result() : undefined);
  const frames: CachedFrame[] | undefined = turn.cacheKey && turn.stream ? [] : undefined;
  const firstByteMs = turn.stream ? performance.now() - turn.ctx.started : undefined;
  let ended = false;
  /** What the response's end waits for: a subscriber that keeps the turn elsewhere (PostgreSQL). */
  const end = (ending: Omit<Ending, "route" | "cached" | "firstByteMs">): Promise<void> | undefined => {
    if (ended) return undefined;
    ended = true;
    return outcomes.emit(turn, { route, cached: false, firstByteMs, ...ending });
  };

  let pending: StreamEvent | undefined = answer.first;
  let sawStop = false;
  const fail = (error: AnthropicError): IteratorResult<Frame, undefined> => {
    end({ status: error.status, error, response: soFar(), frames });
    return { done: false, value: errorFrame(error) };
  };
  const next = async (): Promise<IteratorResult<Frame, undefined>> => {
    if (ended) return finished;
    let event = pending;
    pending = undefined;
    if (event === undefined) {
      try {
        const read = await answer.events.next();
        if (ended) return finished;
        if (read.done) {
          // Claude Code treats a stream that just stops as "connection lost"; say what happened.
          if (!sawStop) return fail(new ApiError("upstream stream ended before message_stop"));
          const kept = end({ status: 200, response: soFar(), frames });
          if (kept) await kept;
          return finished;
        }
        event = read.value;
      } catch (error) {
        if (ended) return finished;
        if (signal.aborted) {
          end({ status: 499, response: soFar(), frames });
          return finished;
        }
        return fail(toAnthropicError(error, requestId));
      }
    }
    const data = dataOf(event);
    if (event.type === "error") {
      const error = streamErrorOf(event);
      end({ status: error.status, error, response: soFar(), frames });
      return { done: false, value: { type: "error", data } };
    }
    acc.push(event);
    frames?.push({ type: event.type, data });
    if (event.type === "message_stop") {
      sawStop = true;
      // Charged before message_stop is written: a client that saw the end of its answer was charged for it.
      turn.settle?.({ response: acc.result(), provider: route.provider, cached: false });
      if (turn.acknowledged) await turn.acknowledged;
    }
    return { done: false, value: frameOf(event, data) };
  };
  const stop = () => {
    if (ended) return;
    end({ status: 499, response: soFar(), frames });
    answer.events.return?.().catch(() => {});
  };

  return {
    route,
    upstreamModel: answer.upstream.model,
    optimized: turn.optimized,
    headers: answer.upstream.headers,
    cached: false,
    events: iterable(next, stop),
    async message(): Promise<Message> {
      try {
        acc.push(answer.first);
        for (;;) {
          const read = await answer.events.next();
          if (read.done) break;
          acc.push(read.value);
        }
        const message = acc.result();
        // Charged before the body is written: a client that got its answer was charged for it.
        turn.settle?.({ response: message, provider: route.provider, cached: false });
        if (turn.acknowledged) await turn.acknowledged;
        const kept = end({ status: 200, response: message });
        if (kept) await kept;
        return message;
      } catch (error) {
        const err = toAnthropicError(error, requestId);
        end({ status: err.status, error: err, response: soFar() });
        // Failed after the first event: still says how it was routed (a panic call, say).
        throw new RoutedError(err, route);
      }
    },
  };
}

async function* framesOf(entry: CacheEntry): AsyncGenerator<Frame, undefined> {
  if (entry.frames) {
    yield* entry.frames;
    return;
  }
  for await (const event of messageToEvents(entry.message)) yield { type: event.type, data: JSON.stringify(event) };
}

/** A cached answer, exactly as it was first sent: its frames, or its events when it was not streamed. */
export function teeCached(turn: Turn, entry: CacheEntry, outcomes: Outcomes): TurnResult {
  outcomes.emit(turn, { route: undefined, cached: true, status: 200, response: entry.message });
  return {
    route: undefined,
    upstreamModel: undefined,
    optimized: undefined,
    headers: {},
    cached: true,
    events: framesOf(entry),
    message: () => Promise.resolve(entry.message),
  };
}
