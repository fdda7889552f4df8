import { afterAll, beforeAll, expect, test } from "bun:test";
import { scanJson } from "../../src/server/json-depth.ts";
import { maxJsonDepth } from "../../src/server/read-body.ts";
import { anthropicSse, chunkedResponse, readWire, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;

beforeAll(() => {
  upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "hi" }] }, "claude-x"))));
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url });
});
afterAll(async () => {
  await gateway.shutdown();
  upstream.stop();
});

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const post = (path: string, body: string) =>
  fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

test("the depth scan counts arrays and objects, not brackets inside strings (escaped quotes included)", () => {
  expect(scanJson(nested(5), 5).tooDeep).toBe(false);
  expect(scanJson(nested(6), 5).tooDeep).toBe(true);
  expect(scanJson(`{"s":"${"[{".repeat(500)}","t":"\\"[[[[[["}`, 2).tooDeep).toBe(false);
  expect(scanJson(`[[["\\\\"],[[1]]]]`, 3).tooDeep).toBe(true);
});

test("Claude Code's real requests nest far below the limit", async () => {
  const body = JSON.stringify((JSON.parse(await readWire("claude-code-2.1.328-request.json")) as { body: unknown }).body);
  // 10 deep (tool schemas included), as are the recorded sessions' requests.
  expect(scanJson(body, 9).tooDeep).toBe(true);
  expect(scanJson(body, 10).tooDeep).toBe(false);
  expect(maxJsonDepth).toBeGreaterThanOrEqual(8 * 16);
});

test("a 50,000-deep input_schema and a 200,000-deep tool input: 400 before parsing, never a 500, and the breaker stays closed", async () => {
  const before = upstream.received.length;
  const deepSchema = `{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":${nested(50_000)}}]}`;
  const deepInput = `{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"t","input":${"[".repeat(200_000)}${"]".repeat(200_000)}}]}]}`;
  for (let i = 0; i < 3; i++) {
    for (const [path, body] of [["/v1/messages", deepSchema], ["/v1/messages", deepInput], ["/v1/messages/count_tokens", deepSchema]] as const) {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      const error = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
      expect(error.error.message).toContain(`more than ${maxJsonDepth} levels deep`);
    }
  }
  expect(upstream.received.length).toBe(before);
  const fine = await post("/v1/messages", JSON.stringify({ model: "claude-x", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }));
  expect(fine.status).toBe(200);
  expect(gateway.gateway.router.circuits().every((c) => c.state === "closed")).toBe(true);
});
