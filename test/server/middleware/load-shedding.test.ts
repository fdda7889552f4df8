import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { turnEvents } from "../../helpers/scripted-anthropic.ts";
import { anthropicSse, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;
let release: () => void = () => {};
let held = Promise.resolve();

beforeAll(() => {
  // Answers start at once, then stall until the test lets them finish.
  upstream = startFakeUpstream(() => {
    const events = anthropicSse(turnEvents({ blocks: [{ type: "text", text: "slow" }] }, "claude-x"));
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode(events.slice(0, 3).join("")));
        await held;
        controller.enqueue(encoder.encode(events.slice(3).join("")));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD: "2" });
});

afterAll(async () => {
  release();
  await gateway.shutdown();
  await upstream.stop();
});

const ask = (text: string) => ({ model: "claude-x", max_tokens: 16, stream: true, messages: [{ role: "user", content: text }] });
const post = (body: unknown) =>
  fetch(`${gateway.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("at the active-request threshold new requests get 529 overloaded_error with retry-after, then flow again", async () => {
  held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const first = await post(ask("one"));
  const second = await post(ask("two"));
  expect([first.status, second.status]).toEqual([200, 200]);

  const shed = await post(ask("three"));
  expect(shed.status).toBe(529);
  expect(shed.headers.get("retry-after")).toBe("2");
  const body = (await shed.json()) as { error: { type: string; message: string } };
  expect(body.error.type).toBe("overloaded_error");
  expect(body.error.message).toContain("LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD=2");
  // Probes and metrics are not shed.
  expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);

  release();
  await Promise.all([first.text(), second.text()]);
  await Bun.sleep(10);
  const client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
  const message = await client.messages.stream({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content: "four" }] }).finalMessage();
  expect(message.stop_reason).toBe("end_turn");
});

test("a memory threshold already exceeded sheds every request", async () => {
  const tight = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LOAD_SHEDDING_MEMORY_THRESHOLD: "0.0001" });
  try {
    const res = await fetch(`${tight.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("x")) });
    expect(res.status).toBe(529);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("LOAD_SHEDDING_MEMORY_THRESHOLD");
    const ready = await fetch(`${tight.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { memory: string } }).checks.memory).toStartWith("high");
  } finally {
    await tight.shutdown();
  }
});

test("a heap threshold already exceeded sheds too, naming its variable", async () => {
  const tight = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LOAD_SHEDDING_HEAP_THRESHOLD: "0.000001" });
  try {
    const res = await fetch(`${tight.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("x")) });
    expect(res.status).toBe(529);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("LOAD_SHEDDING_HEAP_THRESHOLD");
  } finally {
    await tight.shutdown();
  }
});

test("LOAD_SHEDDING_ENABLED=false never sheds", async () => {
  const open = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, LOAD_SHEDDING_ENABLED: "false", LOAD_SHEDDING_MEMORY_THRESHOLD: "0.000001" });
  try {
    release();
    const res = await fetch(`${open.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("x")) });
    expect(res.status).toBe(200);
    await res.text();
  } finally {
    await open.shutdown();
  }
});
