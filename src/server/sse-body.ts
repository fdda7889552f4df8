import { pingFrame, sseFrame } from "../anthropic/sse-frame.ts";
import type { Frame } from "../pipeline/turn.ts";

export interface SseBodyOptions {
  pingIntervalMs: number;
  /** Called once, when the body is done: written in full, or cancelled by the client. */
  onClose(): void;
  /** Aborts the upstream when the client goes away. */
  abort(): void;
}

/**
 * An SSE body that writes each event as the client takes it and pings while the upstream is
 * quiet. It pulls: the next event is read from upstream only once the client's socket took the
 * last one, so a slow client holds back the upstream instead of filling lynkr's memory.
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
          if (closed || Date.now() - lastWrite < options.pingIntervalMs) return;
          lastWrite = Date.now();
          controller.enqueue(pingFrame);
        }, Math.max(5, Math.floor(options.pingIntervalMs / 2)));
      },
      async pull(controller) {
        const next = await events.next();
        if (closed) return;
        if (next.done) {
          close();
          controller.close();
          return;
        }
        lastWrite = Date.now();
        controller.enqueue(sseFrame(next.value.type, next.value.data));
      },
      cancel() {
        if (closed) return;
        options.abort();
        void events.return?.();
        close();
      },
    },
    { highWaterMark: 0 },
  );
}
