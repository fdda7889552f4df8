import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { anthropicSse, chunkedResponse, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { pollLive, startBuiltGateway } from "./harness.ts";

// Slowloris: sockets that connect and stall mid-request must not pile up. Bun closes a socket
// without complete headers after its own ~10 s; REQUEST_READ_TIMEOUT_SECONDS closes one whose
// body stalls (with the old idleTimeout: 0 those stayed open for ever).

const answer = anthropicSse([
  { type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "claude-3-opus-20240229", content: [], usage: { input_tokens: 3, output_tokens: 1 } } },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ok" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } },
  { type: "message_stop" },
]);

const stalls = [
  "", // connects, says nothing
  "POST /v1/messages HTTP/1.1\r\n", // half a request line's worth
  "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applica", // headers cut short
  'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":', // body stalls
];

test("300 half-open sockets are closed within the read timeouts and the gateway still answers", async () => {
  const upstream = startFakeUpstream(() => chunkedResponse(answer));
  const gateway = await startBuiltGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, REQUEST_READ_TIMEOUT_SECONDS: "2" });
  const live = pollLive(gateway.url);
  let liveStopped = false;
  const { port, hostname } = new URL(gateway.url);
  const sockets: { socket: Socket; kind: number; closed: boolean }[] = [];
  try {
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const kind = i % stalls.length;
        return new Promise<void>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => {
            const partial = stalls[kind] as string;
            if (partial) socket.write(partial);
            resolve();
          });
          const entry = { socket, kind, closed: false };
          socket.on("close", () => (entry.closed = true));
          socket.on("error", reject);
          sockets.push(entry);
        });
      }),
    );
    // Bun's own header timeout is ~10 s, checked every 4 s; the body timeout is 2 s (8 s at Bun's granularity).
    for (let waited = 0; sockets.some((s) => !s.closed) && waited < 40_000; waited += 250) await Bun.sleep(250);
    const open = sockets.filter((s) => !s.closed).map((s) => JSON.stringify(stalls[s.kind]));
    expect(open).toEqual([]);

    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-3-opus-20240229", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { content: { text: string }[] }).content[0]?.text).toBe("ok");
    liveStopped = true;
    expect((await live.stop()).failures).toBe(0);
  } finally {
    for (const s of sockets) s.socket.destroy();
    if (!liveStopped) await live.stop();
    await gateway.stop();
    await upstream.stop();
  }
}, 60_000);
