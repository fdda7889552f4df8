import { type AnthropicError, ApiError, streamErrorOf } from "../anthropic/errors.ts";
import type { StreamEvent } from "../anthropic/schema.ts";
import { rawData, type ForwardedEvent } from "../providers/types.ts";

const encoder = new TextEncoder();
const pingFrame = encoder.encode('event: ping\ndata: {"type": "ping"}\n\n');

/** An event's `data:` text: Anthropic-wire events keep the upstream's exact text. */
function dataOf(event: ForwardedEvent): string {
  return event[rawData] ?? JSON.stringify(event);
}

export function sseFrame(type: string, data: string): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${data}\n\n`);
}

export interface SseStreamOptions {
  /** The first event, already read (so that failures before it could still become HTTP errors). */
  first: StreamEvent;
  rest: AsyncIterator<StreamEvent>;
  pingIntervalMs: number;
  /** Called for every event written, with its `data:` text as sent (serialized once). */
  onEvent(event: StreamEvent, data: string): void;
  /** Turns a failure while streaming into the error event written to the client. */
  toError(error: unknown): AnthropicError;
  /** Called once: how the stream ended. */
  onEnd(outcome: { error?: AnthropicError; aborted: boolean }): void;
  /** Aborts the upstream when the client goes away. */
  abort(): void;
}

/** Bytes queued for a client that is not reading before the upstream is read no further. */
const queuedBytesLimit = 64 * 1024;

/**
 * An SSE body that writes each event the moment it arrives and pings while the upstream is quiet.
 * It is pulled: the next upstream event is read only while the client takes what was written, so
 * a paused client pauses the upstream read instead of piling the answer up in memory.
 */
export function sseStream(options: SseStreamOptions): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastWrite = Date.now();
  let closed = false;
  let ended = false;
  let event: StreamEvent | undefined = options.first;
  let sawStop = false;
  const end = (outcome: { error?: AnthropicError; aborted: boolean }) => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    options.onEnd(outcome);
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        timer = setInterval(() => {
          // A client with a full queue is not reading: a ping would only add to the queue.
          if (closed || (controller.desiredSize ?? 0) <= 0) return;
          if (Date.now() - lastWrite >= options.pingIntervalMs) {
            lastWrite = Date.now();
            controller.enqueue(pingFrame);
          }
        }, Math.max(5, Math.floor(options.pingIntervalMs / 2)));
      },
      async pull(controller) {
        const write = (bytes: Uint8Array) => {
          lastWrite = Date.now();
          controller.enqueue(bytes);
        };
        const finish = () => {
          if (closed) return;
          closed = true;
          controller.close();
        };
        try {
          while (!closed) {
            if (event === undefined) {
              // Claude Code treats a stream that just stops as "connection lost"; say what happened.
              if (!sawStop) throw new ApiError("upstream stream ended before message_stop");
              end({ aborted: false });
              return finish();
            }
            const data = dataOf(event);
            options.onEvent(event, data);
            write(sseFrame(event.type, data));
            if (event.type === "message_stop") sawStop = true;
            if (event.type === "error") {
              end({ error: streamErrorOf(event), aborted: false });
              return finish();
            }
            const next: IteratorResult<StreamEvent> = await options.rest.next();
            event = next.done ? undefined : next.value;
            // Full: the stream pulls again once the client has taken some.
            if ((controller.desiredSize ?? 0) <= 0) return;
          }
        } catch (error) {
          if (closed) {
            end({ aborted: true });
            return;
          }
          const err = options.toError(error);
          write(sseFrame("error", dataOf({ type: "error", error: { type: err.type, message: err.message } })));
          end({ error: err, aborted: false });
          finish();
        }
      },
      cancel() {
        closed = true;
        options.abort();
        options.rest.return?.().catch(() => {});
        end({ aborted: true });
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: queuedBytesLimit }),
  );
}
