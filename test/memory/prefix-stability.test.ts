import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { anthropicSse, chunkedResponse, readWire, startFakeUpstream, wireDir, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";
import { sseBody } from "../providers/openai-chat/replay.ts";

// The recorded Claude Code sessions replayed with memories for their project: every upstream
// request of a session carries the same memory block in the same place (after Claude Code's
// system blocks), even when a memory is learnt mid-session, so each turn's upstream body still
// extends the previous one; an Anthropic-wire upstream gets the client's request with only that
// block added.

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown> & { system: unknown[]; messages: unknown[] };
}

const project = "project:/home/user/project";
const remembered = "Tests run with `node test/run.js`; never add a test framework";
const learntLater = "Release notes go in CHANGELOG.md, newest first";

let upstream: FakeUpstream;
let openAiAnswer = "";

beforeAll(async () => {
  openAiAnswer = await sseBody("openai-chat/stream-text.sse");
  upstream = startFakeUpstream((req) =>
    req.url.pathname.endsWith("/chat/completions")
      ? new Response(openAiAnswer, { headers: { "content-type": "text/event-stream" } })
      : chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "claude-opus-5-5"))),
  );
});

afterAll(() => upstream.stop());

async function capturedRequests(session: string): Promise<Captured[]> {
  const files = readdirSync(`${wireDir}claude-code-sessions/${session}`).sort();
  return Promise.all(files.map(async (file) => JSON.parse(await readWire(`claude-code-sessions/${session}/${file}`)) as Captured));
}

/**
 * Replays a session (its session header included, or the one `sessionOf` names for a request)
 * with one memory stored before and one after the first request.
 */
async function replay(
  session: string,
  env: Record<string, string>,
  sessionOf: (file: string, recorded: string) => string = (_file, recorded) => recorded,
): Promise<{ captured: Captured[]; bodies: Record<string, unknown>[] }> {
  const gateway = startTestGateway(env);
  try {
    const memory = gateway.gateway.memory;
    if (!memory) throw new Error("memory is on by default");
    await memory.add(project, remembered);
    const before = upstream.received.length;
    const files = readdirSync(`${wireDir}claude-code-sessions/${session}`).sort();
    const captured = await capturedRequests(session);
    for (const [i, request] of captured.entries()) {
      const res = await fetch(`${gateway.url}/v1/messages?beta=true`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-api-key": "k",
          "anthropic-version": "2023-06-01",
          "x-claude-code-session-id": sessionOf(files[i] ?? "", String(request.headers["x-claude-code-session-id"])),
        },
        body: JSON.stringify(request.body),
      });
      expect(res.status).toBe(200);
      await res.text();
      if (i === 0) await memory.add(project, learntLater);
    }
    return { captured, bodies: upstream.received.slice(before).map((r) => r.json as Record<string, unknown>) };
  } finally {
    await gateway.shutdown();
  }
}

for (const session of ["refactor-two-runs", "large-tool-output"]) {
  test(`${session} via openai: the memory block is in the first system message on every turn, and each turn extends the last`, async () => {
    const { bodies } = await replay(session, { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` });
    const messagesOf = (body: Record<string, unknown> | undefined) => (body?.messages ?? []) as { role: string; content: unknown }[];
    const system = JSON.stringify(messagesOf(bodies[0])[0]);
    expect(system).toContain(remembered);
    expect(system).not.toContain(learntLater);
    for (let turn = 1; turn < bodies.length; turn++) {
      const before = messagesOf(bodies[turn - 1]);
      const after = messagesOf(bodies[turn]);
      expect(JSON.stringify(bodies[turn]?.tools)).toBe(JSON.stringify(bodies[turn - 1]?.tools));
      for (const [i, message] of before.entries()) {
        expect({ turn, i, message: JSON.stringify(after[i]) }).toEqual({ turn, i, message: JSON.stringify(message) });
      }
    }
  });

  test(`${session} via anthropic: the client's request plus one last system block, the same bytes on every turn`, async () => {
    const { captured, bodies } = await replay(session, { ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant" });
    expect(bodies.length).toBe(captured.length);
    const block = (bodies[0]?.system as { text: string }[]).at(-1);
    expect(block?.text).toContain(`- ${remembered}\n`);
    for (const [i, body] of bodies.entries()) {
      const client = captured[i]?.body;
      if (!client) throw new Error("missing request");
      expect(body.system).toEqual([...client.system, block]);
      const { system: _ours, ...rest } = body;
      const { system: _theirs, ...clientRest } = client;
      expect(rest).toEqual(clientRest);
    }
  });
}

test("refactor-two-runs via openai, RUN-2 under a new session id: the conversation keeps RUN-1's block, and RUN-2's first body extends RUN-1's last", async () => {
  const { captured, bodies } = await replay("refactor-two-runs", { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` }, (file, recorded) =>
    file.includes("RUN-2") ? `${recorded}-forked` : recorded,
  );
  expect(bodies.length).toBe(captured.length);
  const messagesOf = (body: Record<string, unknown> | undefined) => (body?.messages ?? []) as unknown[];
  const firstOfRun2 = readdirSync(`${wireDir}claude-code-sessions/refactor-two-runs`).sort().findIndex((file) => file.includes("RUN-2"));
  expect(firstOfRun2).toBeGreaterThan(0);
  const system = JSON.stringify(messagesOf(bodies[0])[0]);
  expect(system).toContain(remembered);
  for (const body of bodies) expect(JSON.stringify(messagesOf(body)[0])).toBe(system);
  // The memory learnt after RUN-1's first request is not in RUN-2's block: it is the same conversation.
  expect(JSON.stringify(bodies.at(-1))).not.toContain(learntLater);
  const before = messagesOf(bodies[firstOfRun2 - 1]);
  const after = messagesOf(bodies[firstOfRun2]);
  for (const [i, message] of before.entries()) expect({ i, message: JSON.stringify(after[i]) }).toEqual({ i, message: JSON.stringify(message) });
});
