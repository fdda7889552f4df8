import { pingFrame, sseFrame } from "../anthropic/sse-frame.ts";
import type { Frame } from "../pipeline/turn.ts";

export interface SseBodyOptions {
  pingIntervalMs: number;
  /** Called once, when the body is done: written in full, or cancelled by the client. */
  onClose(): void;
  /** Aborts the upstream when the client goes away. */
  abort(): void;
}

/** Bytes queued for a client that is not reading before the upstream is read no further. */
const queuedBytesLimit = 64 * 1024;

/**
 * An SSE body that writes each event the moment it arrives and pings while the upstream is
 * quiet. It is pulled: the next event is read only while the client takes what was written, so a
 * paused client pauses the upstream read instead of piling the answer up in memory.
 */
export function sseBody(events: AsyncIterator<Frame>, options: SseBodyOptions): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastWrite = Date.now();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    options.onClose();
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        timer = setInterval(() => {
          // A client with a full queue is not reading: a ping would only add to the queue.
          if (closed || (controller.desiredSize ?? 0) <= 0 || Date.now() - lastWrite < options.pingIntervalMs) return;
          lastWrite = Date.now();
          controller.enqueue(pingFrame);
        }, Math.max(5, Math.floor(options.pingIntervalMs / 2)));
      },
      async pull(controller) {
        // Writes while the queue has room; full, the stream pulls again once the client took some.
        do {
          const next = await events.next();
          if (closed) return;
          if (next.done) {
            close();
            controller.close();
            return;
          }
          lastWrite = Date.now();
          controller.enqueue(next.value.bytes ?? sseFrame(next.value.type, next.value.data));
        } while ((controller.desiredSize ?? 0) > 0);
      },
      cancel() {
        if (closed) return;
        options.abort();
        void events.return?.();
        close();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: queuedBytesLimit }),
  );
}
