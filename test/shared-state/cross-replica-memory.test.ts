import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { anthropicSse, chunkedResponse, readWire, startFakeUpstream, wireDir, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { launchTestGateway } from "../helpers/gateway.ts";
import { startPostgresServer, type PostgresServer } from "../helpers/postgres-server.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

// Three replicas (three gateways) on one real PostgreSQL, the turns of recorded Claude Code
// sessions sent round-robin by the test: the memory block is read from the shared store, so
// every request of a session carries the same bytes whichever replica serves it — also when a
// memory is learnt on another replica mid-session, and when the session's first request
// reaches all three at once.

interface Captured {
  headers: Record<string, string>;
  body: Record<string, unknown> & { system: { text: string }[]; messages: unknown[] };
}

const projectDir = "/home/user/project";
const remembered = "Tests run with `node test/run.js`; never add a test framework";
const learntLater = "Release notes go in CHANGELOG.md, newest first";

type Replica = Awaited<ReturnType<typeof launchTestGateway>>;

let pg: PostgresServer;
let upstream: FakeUpstream;
let replicas: Replica[] = [];

beforeAll(async () => {
  pg = await startPostgresServer();
  upstream = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "ok" }] }, "claude-opus-5-5"))));
  const env = { LYNKR_DATABASE_URL: pg.url, ANTHROPIC_UPSTREAM_URL: upstream.url, ANTHROPIC_UPSTREAM_API_KEY: "sk-ant" };
  // One after the other: each migrates (or finds migrated) under the advisory lock.
  for (let i = 0; i < 3; i++) replicas.push(await launchTestGateway(env));
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.shutdown()));
  replicas = [];
  upstream?.stop();
  await pg?.close();
});

function replica(i: number): Replica {
  return replicas[i % replicas.length] as Replica;
}

async function remember(on: Replica, text: string): Promise<void> {
  const res = await fetch(`${on.url}/v1/memory`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, project: projectDir }) });
  expect(res.status).toBe(201);
}

async function listed(on: Replica): Promise<string[]> {
  const res = await fetch(`${on.url}/v1/memory`);
  return ((await res.json()) as { data: { text: string }[] }).data.map((m) => m.text);
}

async function recorded(session: string): Promise<{ file: string; request: Captured }[]> {
  const files = readdirSync(`${wireDir}claude-code-sessions/${session}`).sort();
  return Promise.all(files.map(async (file) => ({ file, request: JSON.parse(await readWire(`claude-code-sessions/${session}/${file}`)) as Captured })));
}

/** Sends one recorded request to `to` under `sessionId`; returns the memory block the upstream got. */
async function send(to: Replica, request: Captured, sessionId: string): Promise<string> {
  const before = upstream.received.length;
  const res = await fetch(`${to.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01", "x-claude-code-session-id": sessionId },
    body: JSON.stringify(request.body),
  });
  expect(res.status).toBe(200);
  await res.text();
  const body = upstream.received.slice(before).find((r) => r.url.pathname.endsWith("/v1/messages"))?.json as Captured["body"] | undefined;
  const last = body?.system.at(-1)?.text ?? "";
  return last.startsWith("<lynkr-memory>") ? last : "";
}

test("a session's turns round-robin over three replicas get the same memory block on every request", async () => {
  await remember(replica(2), remembered);
  const turns = await recorded("refactor-two-runs");
  const blocks: string[] = [];
  for (const [i, { file, request }] of turns.entries()) {
    // RUN-2 continues RUN-1's conversation under a new session id: the conversation's block too.
    const sessionId = `${request.headers["x-claude-code-session-id"]}${file.includes("RUN-2") ? "-forked" : ""}`;
    blocks.push(await send(replica(i), request, sessionId));
    if (i === 0) {
      // Learnt on another replica mid-session: every replica sees it, none changes the session's block.
      await remember(replica(1), learntLater);
      for (const r of replicas) expect(await listed(r)).toContain(learntLater);
    }
  }
  expect(blocks.length).toBe(turns.length);
  expect(blocks[0]).toContain(`- ${remembered}\n`);
  expect(blocks[0]).not.toContain(learntLater);
  for (const [i, block] of blocks.entries()) expect({ i, block }).toEqual({ i, block: blocks[0] as string });

  // A new session, wherever it starts, is given what was learnt meanwhile.
  const [fresh] = await recorded("six-file-reads");
  if (!fresh) throw new Error("missing recording");
  const next = await send(replica(2), fresh.request, "new-session");
  expect(next).toContain(remembered);
  expect(next).toContain(learntLater);
});

test("a session whose first request reaches all three replicas at once gets one block everywhere", async () => {
  const turns = await recorded("six-file-reads");
  const [first] = turns;
  if (!first) throw new Error("missing recording");
  const sessionId = "simultaneous-start";
  const together = await Promise.all(replicas.map((r) => send(r, first.request, sessionId)));
  expect(together[0]).toContain(remembered);
  expect(new Set(together).size).toBe(1);
  for (const [i, { request }] of turns.slice(1).entries()) expect(await send(replica(i), request, sessionId)).toBe(together[0] as string);
});
