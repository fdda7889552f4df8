import { expect, test } from "bun:test";
import { startTestGateway } from "../helpers/gateway.ts";
import { anthropicSse, chunkedResponse, startFakeUpstream } from "../helpers/fake-upstream.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

test("a model name longer than 256 characters is refused with 400 before any upstream call", async () => {
  const upstream = startFakeUpstream(() => new Response("unreachable", { status: 500 }));
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "x".repeat(100_000), max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toBe("model: expected a model name of at most 256 characters");
    expect(upstream.received.length).toBe(0);
    const metrics = await (await fetch(`${gateway.url}/metrics/prometheus`)).text();
    expect(metrics).not.toContain("x".repeat(257));
  } finally {
    await gateway.shutdown();
    await upstream.stop();
  }
});

test("an Ollama stream that never sends a newline is cut at 8 MiB with a 502, not buffered", async () => {
  let pulled = 0;
  const chunk = new TextEncoder().encode("x".repeat(256 * 1024));
  const upstream = startFakeUpstream((req) => {
    if (req.url.pathname === "/api/show") return Response.json({ capabilities: ["completion", "tools"], model_info: {} });
    return new Response(
      new ReadableStream({
        pull(controller) {
          if (pulled > 256 * 1024 * 1024) return controller.close();
          pulled += chunk.length;
          controller.enqueue(chunk);
        },
      }),
      { headers: { "content-type": "application/x-ndjson" } },
    );
  });
  const gateway = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: upstream.url, API_RETRY_MAX_RETRIES: "0" });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("longer than 8 MiB");
    // What was in flight when the cap hit (socket buffers) is all that was read.
    expect(pulled).toBeLessThan(64 * 1024 * 1024);
  } finally {
    await gateway.shutdown();
    await upstream.stop();
  }
});

test("under a short REQUEST_READ_TIMEOUT_SECONDS, a slow answer and a stream longer than it are not cut", async () => {
  // Bun checks idle timeouts every few seconds: 9 s is past a 1 s timeout whatever the tick. Bun
  // would cut the stream there, pings or not, had the messages handler not lifted the timeout.
  const events = anthropicSse(turnEvents({ blocks: [{ type: "text", text: "slow" }] }, "claude-x"));
  const upstream = startFakeUpstream(async (req) => {
    if ((req.json as { stream?: boolean }).stream) return chunkedResponse(events, { delayMs: 9_000 / events.length });
    await Bun.sleep(9_000);
    return chunkedResponse(events);
  });
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, REQUEST_READ_TIMEOUT_SECONDS: "1", STREAM_PING_INTERVAL_MS: "300" });
  const ask = (stream: boolean) =>
    fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-x", max_tokens: 5, stream, messages: [{ role: "user", content: "hi" }] }),
    }).then(async (res) => ({ status: res.status, text: await res.text() }));
  try {
    const [json, stream] = await Promise.all([ask(false), ask(true)]);
    expect(json.status).toBe(200);
    expect(json.text).toContain('"text":"slow"');
    expect(stream.status).toBe(200);
    expect(stream.text).toContain("event: ping");
    expect(stream.text).toContain("event: message_stop");
  } finally {
    await gateway.shutdown();
    await upstream.stop();
  }
});
