import { expect, test } from "bun:test";
import { connect } from "node:net";
import { startFakeUpstream } from "../helpers/fake-upstream.ts";
import { readFileSync } from "node:fs";
import { pollLive, startBuiltGateway } from "./harness.ts";

// A client that stops reading a big answer must pause the upstream read, not make the gateway
// hold the answer: the stream is pulled (src/pipeline/sse-response.ts).

const mib = 1024 * 1024;

/** Resident memory of a process, in bytes. */
function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}
const answerBytes = 50 * mib;
const deltaText = "x".repeat(32 * 1024);

/** An Anthropic stream of ~50 MB of text deltas, produced as fast as it is read; counts what was read. */
function bigAnswer(): { response: Response; sent(): number } {
  const encoder = new TextEncoder();
  let sent = 0;
  let phase = 0;
  const frame = (type: string, data: unknown) => encoder.encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      let bytes: Uint8Array;
      if (phase === 0) {
        bytes = encoder.encode(
          [
            frame("message_start", { type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "claude-3-opus-20240229", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
            frame("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
          ]
            .map((b) => new TextDecoder().decode(b))
            .join(""),
        );
        phase = 1;
      } else if (sent < answerBytes) {
        bytes = frame("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: deltaText } });
      } else {
        controller.enqueue(frame("content_block_stop", { type: "content_block_stop", index: 0 }));
        controller.enqueue(frame("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 12_000_000 } }));
        controller.enqueue(frame("message_stop", { type: "message_stop" }));
        controller.close();
        return;
      }
      sent += bytes.length;
      controller.enqueue(bytes);
    },
  });
  return { response: new Response(body, { headers: { "content-type": "text/event-stream" } }), sent: () => sent };
}

test("a paused client reading a 50 MB stream pauses the upstream and keeps the gateway's memory bounded", async () => {
  let answer: ReturnType<typeof bigAnswer> | undefined;
  const upstream = startFakeUpstream(() => {
    answer = bigAnswer();
    return answer.response;
  });
  const gateway = await startBuiltGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, STREAM_PING_INTERVAL_MS: "200" });
  const live = pollLive(gateway.url);
  let liveStopped = false;
  const { port, hostname } = new URL(gateway.url);
  const socket = connect(Number(port), hostname);
  try {
    const before = rssBytes(gateway.pid);
    const body = JSON.stringify({ model: "claude-3-opus-20240229", max_tokens: 5, stream: true, messages: [{ role: "user", content: "a long answer" }] });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.pause();
    socket.write(`POST /v1/messages HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

    // The client reads nothing for 3 s; the gateway reads on from the upstream only as far as
    // socket buffers and its 64 KiB queue allow.
    let peak = before;
    const sentAt: number[] = [];
    for (let i = 0; i < 15; i++) {
      await Bun.sleep(200);
      peak = Math.max(peak, rssBytes(gateway.pid));
      sentAt.push(answer?.sent() ?? 0);
    }
    const sentWhilePaused = sentAt.at(-1) ?? 0;
    expect(sentWhilePaused).toBeGreaterThan(0);
    // Once the kernel's socket buffers are full (loopback autotuning grows them to 10-20 MB here)
    // the gateway stops reading: the upstream's count stands still for the last second, far
    // short of the answer (a gateway that buffers for a slow client reads all 50 MB).
    expect(sentAt.slice(-5).every((sent) => sent === sentWhilePaused)).toBe(true);
    expect(sentWhilePaused).toBeLessThan(answerBytes * 0.8);
    // While paused the gateway holds socket buffers and its queue, not the answer.
    expect(peak - before).toBeLessThan(80 * mib);

    // Then it reads the whole answer, which ends properly. Memory is sampled while the answer
    // streams; once it has all gone out, the gateway stores the turn (the whole answer, by design).
    let received = 0;
    let tail = "";
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(gateway.pid))), 100);
    const ended = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received >= answerBytes) clearInterval(sampler);
        tail = (tail + chunk.toString("latin1")).slice(-200);
        if (tail.includes("event: message_stop")) resolve();
      });
    });
    socket.resume();
    await ended;
    clearInterval(sampler);
    expect(received).toBeGreaterThan(answerBytes);
    // Streaming, the turn's answer is accumulated for its record (by design), and a busy machine's
    // GC lags: the bound still fails a gateway that buffers the stream for a slow client (+378 MB).
    expect(peak - before).toBeLessThan(250 * mib);
    liveStopped = true;
    expect((await live.stop()).failures).toBe(0);
  } finally {
    socket.destroy();
    if (!liveStopped) await live.stop();
    await gateway.stop();
    await upstream.stop();
  }
}, 60_000);
