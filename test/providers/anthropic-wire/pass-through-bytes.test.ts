import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { MessageAccumulator } from "../../../src/anthropic/accumulate.ts";
import { messagesRequestSchema, type StreamEvent } from "../../../src/anthropic/schema.ts";
import { decodeSse } from "../../../src/anthropic/sse.ts";
import { turnUsage } from "../../../src/usage/tokens.ts";
import { anthropicSse, chunkedResponse, readWire, recordedAnthropicEvents, startFakeUpstream, wireDir, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";

// A streamed pass-through answer goes to the client as the upstream's own bytes, while the turn
// still observes every event: the session record and the usage row hold what decoding the same
// stream and accumulating its events gives (the usage row: what turnUsage makes of that), on every
// recorded Anthropic stream.

const encoder = new TextEncoder();
let streams: [string, Uint8Array<ArrayBuffer>][];
let served = new Uint8Array();
let upstream: FakeUpstream;

beforeAll(async () => {
  const files = readdirSync(`${wireDir}upstream/anthropic`).filter((f) => f.endsWith(".sse") || f.endsWith(".chunks.txt"));
  streams = await Promise.all(
    files.map(async (file): Promise<[string, Uint8Array<ArrayBuffer>]> => {
      const text = file.endsWith(".sse") ? await readWire(`upstream/anthropic/${file}`) : anthropicSse(await recordedAnthropicEvents(file)).join("");
      return [file, encoder.encode(text)];
    }),
  );
  // Pieces of 97 bytes: frames cross chunk ends, as on a real connection.
  upstream = startFakeUpstream(() => {
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < served.length; at += 97) pieces.push(served.slice(at, at + 97));
    return chunkedResponse(pieces);
  });
});
afterAll(() => upstream.stop());

const request = messagesRequestSchema.parse({ model: "claude-sonnet-4-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "Say something." }] });

async function decodedEvents(bytes: Uint8Array): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const frame of decodeSse(new Response(bytes).body as ReadableStream<Uint8Array>)) events.push(JSON.parse(frame.data) as StreamEvent);
  return events;
}

test("every recorded Anthropic stream reaches the client byte for byte, and the turn record and usage are the decoded events' own", async () => {
  expect(streams.length).toBeGreaterThanOrEqual(7);
  for (const [file, bytes] of streams) {
    served = bytes;
    const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-test", MEMORY_ENABLED: "false" });
    const dbPath = join(gateway.dir, "lynkr.db");
    try {
      const res = await fetch(`${gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-claude-code-session-id": `s-${file}` },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(200);
      const received = new Uint8Array(await res.arrayBuffer());
      expect({ file, body: new TextDecoder().decode(received) }).toEqual({ file, body: new TextDecoder().decode(bytes) });
      expect(received).toEqual(bytes);
    } finally {
      await gateway.shutdown();
    }

    const acc = new MessageAccumulator();
    for (const event of await decodedEvents(bytes)) acc.push(event);
    const message = acc.result();
    const used = turnUsage(request, message);
    const db = new Database(dbPath, { readonly: true });
    try {
      const row = db.query("SELECT input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, stop_reason, response FROM turns").get() as Record<string, unknown>;
      const turn: Record<string, unknown> = { ...row, response: JSON.parse(String(row.response)) };
      expect({ file, turn }).toEqual({
        file,
        turn: {
          input_tokens: message.usage.input_tokens ?? null,
          output_tokens: message.usage.output_tokens ?? null,
          cache_read_input_tokens: message.usage.cache_read_input_tokens ?? null,
          cache_creation_input_tokens: message.usage.cache_creation_input_tokens ?? null,
          stop_reason: message.stop_reason ?? null,
          response: JSON.parse(JSON.stringify(message)),
        },
      });
      const usage = db.query("SELECT input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens FROM usage").all();
      expect({ file, usage }).toEqual({
        file,
        usage: [{ input_tokens: used.input_tokens, output_tokens: used.output_tokens, cache_read_input_tokens: used.cache_read_input_tokens, cache_creation_input_tokens: used.cache_creation_input_tokens }],
      });
    } finally {
      db.close();
    }
  }
});

test("a frame whose event name is not its data's type goes out re-framed under the type, as before; the frames around it as they came", async () => {
  const start = 'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}   }\n\n';
  const rest = 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
  served = encoder.encode(`${start}event: keepalive\ndata: {"type":"ping"}\n\n${rest}`);
  const gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-test", MEMORY_ENABLED: "false" });
  try {
    const res = await fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
    expect(await res.text()).toBe(`${start}event: ping\ndata: {"type":"ping"}\n\n${rest}`);
  } finally {
    await gateway.shutdown();
  }
});
