import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chunkedResponse, readWire, sseEvents, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;
let client: Anthropic;
let recorded: string;

beforeAll(async () => {
  recorded = await readWire("upstream/anthropic/stream-text.sse");
  upstream = startFakeUpstream(() => chunkedResponse(sseEvents(recorded)));
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url });
  client = new Anthropic({ baseURL: gateway.url, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
});

test("streams an Anthropic-wire upstream's events to the SDK unchanged and in order", async () => {
  const stream = client.messages.stream({ model: "claude-x", max_tokens: 64, messages: [{ role: "user", content: "count" }] });
  const message = await stream.finalMessage();
  expect(message.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["1\n2\n3\n4\n5"]);
  expect(message.stop_reason).toBe("end_turn");

  const res = await fetch(`${gateway.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k" },
    body: JSON.stringify({ model: "claude-x", max_tokens: 64, stream: true, messages: [{ role: "user", content: "count" }] }),
  });
  expect(res.headers.get("content-type")).toStartWith("text/event-stream");
  expect(res.headers.get("request-id")).toMatch(/^req_/);
  expect(await res.text()).toBe(recorded);
  expect(upstream.received.at(-1)?.url.search).toBe("?beta=true");
});
