import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { anthropicSse, chunkedResponse, jsonResponse, readWire, recordedAnthropicEvents, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

// POST /v1/messages through the official SDK against recorded Anthropic answers: the stream
// helpers and finalMessage(), non-streaming calls, and streams passed on byte for byte.

/** Recorded Anthropic streams, as the SSE body the upstream sent. */
const recordings: Record<string, string> = {};

async function loadRecordings() {
  for (const name of ["stream-text.sse", "stream-thinking-then-text.sse", "stream-redacted-thinking.sse"]) {
    recordings[name] = await readWire(`upstream/anthropic/${name}`);
  }
  for (const name of ["stream-text-then-tool-use.chunks.txt", "stream-tool-use-no-args.chunks.txt", "stream-refusal-stop-details.chunks.txt", "stream-compatible-provider-input-tokens-in-message-delta.chunks.txt"]) {
    recordings[name] = anthropicSse(await recordedAnthropicEvents(name)).join("");
  }
}

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;
let client: Anthropic;

/** The recording a request asks for, by its model name. */
function recordingFor(model: string): string {
  const body = recordings[model];
  if (!body) throw new Error(`no recording ${model}`);
  return body;
}

beforeAll(async () => {
  await loadRecordings();
  upstream = startFakeUpstream((req) => {
    const body = req.json as { model: string };
    return chunkedResponse(sseEvents(recordingFor(body.model)), { headers: { "request-id": "req_upstream_1" } });
  });
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, PROMPT_CACHE_ENABLED: "false" });
  client = new Anthropic({ baseURL: gateway.url, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
});

test("stream helpers see each text delta and finalMessage() the whole answer", async () => {
  const deltas: string[] = [];
  const stream = client.messages.stream({ model: "stream-text.sse", max_tokens: 64, messages: [{ role: "user", content: "count" }] });
  stream.on("text", (delta) => deltas.push(delta));
  const message = await stream.finalMessage();
  expect(deltas.length).toBeGreaterThan(1);
  expect(deltas.join("")).toBe("1\n2\n3\n4\n5");
  expect(message.usage.output_tokens).toBeGreaterThan(0);
  expect(message.stop_reason).toBe("end_turn");
});

test("a tool call streams its input as JSON deltas the SDK assembles", async () => {
  const jsonDeltas: string[] = [];
  const stream = client.messages.stream({ model: "stream-text-then-tool-use.chunks.txt", max_tokens: 64, messages: [{ role: "user", content: "json" }] });
  stream.on("inputJson", (partial) => jsonDeltas.push(partial));
  const message = await stream.finalMessage();
  expect(message.stop_reason).toBe("tool_use");
  const tool = message.content.find((b) => b.type === "tool_use");
  expect(tool?.type === "tool_use" && typeof tool.input === "object").toBe(true);
  expect(jsonDeltas.length).toBeGreaterThan(0);
});

test("thinking with its signature, redacted thinking, tools without arguments and refusals come through", async () => {
  const thinking = await client.messages.stream({ model: "stream-thinking-then-text.sse", max_tokens: 64, messages: [{ role: "user", content: "x" }] }).finalMessage();
  const block = thinking.content[0];
  expect(block?.type).toBe("thinking");
  expect(block?.type === "thinking" && block.signature.length > 10).toBe(true);

  const redacted = await client.messages.stream({ model: "stream-redacted-thinking.sse", max_tokens: 64, messages: [{ role: "user", content: "x" }] }).finalMessage();
  expect(redacted.content.filter((b) => b.type === "redacted_thinking")).toHaveLength(2);

  const noArgs = await client.messages.stream({ model: "stream-tool-use-no-args.chunks.txt", max_tokens: 64, messages: [{ role: "user", content: "x" }] }).finalMessage();
  expect(noArgs.content.find((b) => b.type === "tool_use")).toMatchObject({ input: {} });

  const refusal = await client.messages.stream({ model: "stream-refusal-stop-details.chunks.txt", max_tokens: 64, messages: [{ role: "user", content: "x" }] }).finalMessage();
  expect(refusal.stop_reason).toBe("refusal");
  expect(refusal.content).toEqual([]);
});

test("every recorded stream reaches the client byte for byte, with the upstream's request id", async () => {
  for (const [name, body] of Object.entries(recordings)) {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: name, max_tokens: 64, stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("x-upstream-request-id")).toBe("req_upstream_1");
    expect(await res.text(), name).toBe(body);
  }
});

test("non-streaming: the SDK gets one Message equal to what the stream builds", async () => {
  for (const model of ["stream-text.sse", "stream-text-then-tool-use.chunks.txt", "stream-thinking-then-text.sse"]) {
    const params = { model, max_tokens: 64, messages: [{ role: "user" as const, content: "x" }] };
    const whole = await client.messages.create(params);
    // The SDK's stream helper adds its own bookkeeping fields (parsed_output, citations: null).
    const { parsed_output: _parsed, ...streamed } = await client.messages.stream(params).finalMessage();
    expect(JSON.parse(JSON.stringify(whole))).toEqual(JSON.parse(JSON.stringify(streamed)));
    expect(whole.type).toBe("message");
  }
});

test("an upstream that answers a stream request with a JSON Message still streams to the client", async () => {
  const message = JSON.parse(await readWire("upstream/anthropic/message-parallel-tool-use.json")) as Anthropic.Message;
  const jsonUpstream = startFakeUpstream(() => jsonResponse(message));
  const gw = startTestGateway({ ANTHROPIC_UPSTREAM_URL: jsonUpstream.url, PROMPT_CACHE_ENABLED: "false" });
  try {
    const sdk = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    const streamed = await sdk.messages.stream({ model: "claude-x", max_tokens: 64, messages: [{ role: "user", content: "x" }] }).finalMessage();
    expect(streamed.content as unknown[]).toEqual(message.content);
    expect(streamed.stop_reason).toBe("tool_use");
    const whole = await sdk.messages.create({ model: "claude-x", max_tokens: 64, messages: [{ role: "user", content: "x" }] });
    expect(whole.content).toEqual(message.content);
    expect(whole.id).toBe(message.id);
  } finally {
    await gw.shutdown();
    await jsonUpstream.stop();
  }
});

test("the events a fake upstream writes one by one arrive in order, each as it is written", async () => {
  // Five words, one text delta each.
  const events = anthropicSse(turnEvents({ blocks: [{ type: "text", text: "0 1 2 3 4" }] }, "m"));
  const slow = startFakeUpstream(() => chunkedResponse(events, { delayMs: 60 }));
  const gw = startTestGateway({ ANTHROPIC_UPSTREAM_URL: slow.url, PROMPT_CACHE_ENABLED: "false" });
  try {
    const sdk = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    const arrivals: number[] = [];
    const started = performance.now();
    const stream = sdk.messages.stream({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "x" }] });
    stream.on("text", () => arrivals.push(performance.now() - started));
    expect((await stream.finalMessage()).content as unknown[]).toEqual([{ type: "text", text: "0 1 2 3 4" }]);
    // Not buffered: the deltas arrive spread over the upstream's pace, not all at the end.
    expect(arrivals).toHaveLength(5);
    expect((arrivals[4] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(150);
  } finally {
    await gw.shutdown();
    await slow.stop();
  }
});
