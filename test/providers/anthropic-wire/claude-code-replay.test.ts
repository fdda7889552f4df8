import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { anthropicSse, chunkedResponse, readWire, startFakeUpstream, wireDir, type FakeUpstream, type ReceivedRequest } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";
import { turnEvents } from "../../helpers/scripted-anthropic.ts";
import { waitForTurns } from "../../helpers/turns.ts";

// Real Claude Code 2.1.328 requests (the shared sample and two recorded sessions) replayed
// through lynkr to an Anthropic-wire upstream: it must receive every body field unchanged
// (unknown ones too, role:"system" messages in place), the query string and the headers that
// steer Anthropic; and each stored turn must hold only the messages that turn added.

interface Recorded {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown> & { messages: unknown[] };
}

let upstream: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;

beforeAll(() => {
  upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "claude-opus-5-5"))));
  // The fake upstream stands in for api.anthropic.com, where the client's key is meant to go.
  gateway = startTestGateway({ ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_FORWARD_CLIENT_CREDENTIALS: "true", PROMPT_CACHE_ENABLED: "false" });
});

afterAll(async () => {
  await gateway.shutdown();
  await upstream.stop();
});

/** Sends a recorded request as the CLI sent it (the redacted key replaced) and returns what the upstream got. */
async function replay(recorded: Recorded): Promise<ReceivedRequest> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(recorded.headers)) {
    if (!["host", "content-length", "connection", "accept-encoding"].includes(name)) headers[name] = value;
  }
  headers["x-api-key"] = "sk-ant-client-key";
  const before = upstream.received.length;
  const res = await fetch(gateway.url + recorded.url, { method: "POST", headers, body: JSON.stringify(recorded.body) });
  expect(res.status).toBe(200);
  await res.text();
  expect(upstream.received.length).toBe(before + 1);
  return upstream.received.at(-1) as ReceivedRequest;
}

test("the shared 2.1.328 request reaches the upstream byte for byte, with its query and headers", async () => {
  const recorded = JSON.parse(await readWire("claude-code-2.1.328-request.json")) as Recorded;
  const received = await replay(recorded);
  // Same bytes: same fields, same order, nothing added or dropped (thinking, context_management,
  // output_config, metadata, the system message inside messages, defer_loading on a tool...).
  expect(received.text).toBe(JSON.stringify(recorded.body));
  expect(received.url.pathname + received.url.search).toBe("/v1/messages?beta=true");
  for (const name of ["anthropic-beta", "anthropic-version", "anthropic-dangerous-direct-browser-access", "x-app", "user-agent", "x-claude-code-session-id"]) {
    expect(received.headers.get(name), name).toBe(recorded.headers[name] ?? null);
  }
  expect(received.headers.get("x-api-key")).toBe("sk-ant-client-key");
  expect(received.headers.get("authorization")).toBeNull();
});

test("unknown fields at every level reach the upstream unchanged", async () => {
  const recorded = JSON.parse(await readWire("claude-code-2.1.328-request.json")) as Recorded;
  const body = {
    ...recorded.body,
    future_top_level: { nested: [1, 2, { deep: true }] },
    messages: [
      ...recorded.body.messages,
      { role: "assistant", content: [{ type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { q: "x" }, extra: 1 }], future: "kept" },
      { role: "user", content: [{ type: "text", text: "next", citations: null, future_block_field: "kept", cache_control: { type: "ephemeral", ttl: "1h" } }] },
    ],
    tools: [...((recorded.body.tools as unknown[]) ?? []), { type: "web_search_20250305", name: "web_search", max_uses: 3 }],
    service_tier: "auto",
  };
  const received = await replay({ ...recorded, body });
  expect(received.text).toBe(JSON.stringify(body));
});

for (const session of ["refactor-two-runs", "large-tool-output"]) {
  test(`the recorded session ${session} replays unchanged, and each turn stores only its new messages`, async () => {
    const dir = `${wireDir}claude-code-sessions/${session}/`;
    const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
    const db = gateway.gateway.db;
    let sessionId = "";
    let previousLength = 0;
    for (const [i, file] of files.entries()) {
      const recorded = (await Bun.file(dir + file).json()) as Recorded;
      sessionId = recorded.headers["x-claude-code-session-id"] ?? "";
      const received = await replay(recorded);
      expect(received.text, file).toBe(JSON.stringify(recorded.body));
      const systemAt = recorded.body.messages.findIndex((m) => (m as { role: string }).role === "system");
      expect((received.json as Recorded["body"]).messages[systemAt]).toEqual(recorded.body.messages[systemAt]);

      const turns = await waitForTurns(db, sessionId, i + 1);
      const turn = turns.at(-1);
      const stored = JSON.parse(turn?.new_messages ?? "[]") as unknown[];
      // The first turn stores the whole conversation so far; every later one only what it added.
      const expected = recorded.body.messages.slice(i === 0 ? 0 : previousLength);
      expect(stored, file).toEqual(expected);
      expect(turn?.history_offset).toBe(i === 0 ? 0 : previousLength);
      previousLength = recorded.body.messages.length;
    }
    // Stored turns add up to the last request's whole history, with nothing written twice (each
    // message as it was first sent: the newest one still carried Claude Code's cache_control).
    const all = (await waitForTurns(db, sessionId, files.length)).flatMap((t) => JSON.parse(t.new_messages) as { role: string }[]);
    const last = (await Bun.file(dir + files.at(-1)).json()) as { body: { messages: { role: string }[] } };
    expect(all.map((m) => m.role)).toEqual(last.body.messages.map((m) => m.role));
  });
}
