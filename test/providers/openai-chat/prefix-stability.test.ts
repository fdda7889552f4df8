import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { readWire, startFakeUpstream, wireDir, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";
import { sseBody } from "./replay.ts";

// Captured Claude Code sessions replayed through the gateway: what each upstream receives on
// turn N must be a byte prefix of turn N+1 (tools identical, each earlier message serialized
// identically), or the upstream's prefix cache misses on every turn.

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const sessions = ["refactor-two-runs", "large-tool-output"];

let upstream: FakeUpstream;
let answer = "";

beforeAll(async () => {
  answer = await sseBody("openai-chat/stream-text.sse");
  upstream = startFakeUpstream(() => new Response(answer, { headers: { "content-type": "text/event-stream" } }));
});

afterAll(() => upstream.stop());

async function capturedRequests(session: string): Promise<Captured[]> {
  const files = readdirSync(`${wireDir}claude-code-sessions/${session}`).sort();
  return Promise.all(files.map(async (file) => JSON.parse(await readWire(`claude-code-sessions/${session}/${file}`)) as Captured));
}

/** Sends each captured request through a gateway for `env`; returns the upstream bodies, in order. */
async function upstreamBodies(session: string, env: Record<string, string>): Promise<ChatCompletionCreateParams[]> {
  const gateway = startTestGateway(env);
  try {
    const before = upstream.received.length;
    for (const captured of await capturedRequests(session)) {
      const res = await fetch(`${gateway.url}${new URL(captured.url, "http://x").pathname}?beta=true`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
        body: JSON.stringify(captured.body),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    return upstream.received.slice(before).map((r) => r.json as ChatCompletionCreateParams);
  } finally {
    await gateway.shutdown();
  }
}

const providers: Record<string, () => Record<string, string>> = {
  openai: () => ({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` }),
  // llama.cpp merges mid-conversation system messages into the user turn before them.
  llamacpp: () => ({ MODEL_PROVIDER: "llamacpp", LLAMACPP_ENDPOINT: upstream.url }),
};

for (const session of sessions) {
  for (const [provider, env] of Object.entries(providers)) {
    test(`${session} via ${provider}: every turn's upstream body extends the previous one`, async () => {
      const bodies = await upstreamBodies(session, env());
      const captured = await capturedRequests(session);
      expect(bodies.length).toBe(captured.length);
      for (let turn = 1; turn < bodies.length; turn++) {
        const before = bodies[turn - 1];
        const after = bodies[turn];
        if (!before || !after) throw new Error("missing body");
        expect(JSON.stringify(after.tools)).toBe(JSON.stringify(before.tools));
        expect(after.messages.length).toBeGreaterThan(before.messages.length);
        for (const [i, message] of before.messages.entries()) {
          expect({ turn, i, message: JSON.stringify(after.messages[i]) }).toEqual({ turn, i, message: JSON.stringify(message) });
        }
      }
      const first = bodies[0];
      if (!first) throw new Error("no body");
      // The client's tools, all of them, under their own names.
      const clientTools = (captured[0]?.body.tools as { name: string }[]).map((t) => t.name);
      expect(first.tools?.map((t) => (t.type === "function" ? t.function.name : t.type))).toEqual(clientTools);
      expect(JSON.stringify(first.tools)).not.toContain("$schema");
      // Claude Code's billing header (different per conversation) never reaches the upstream.
      expect(JSON.stringify(first.messages)).not.toContain("x-anthropic-billing-header");
      expect(first.messages[0]?.role).toBe("system");
      const systemRoles = first.messages.filter((m) => m.role === "system").length;
      if (provider === "openai" && session === "refactor-two-runs") {
        // The role:"system" message Claude Code puts at messages[1] stays there, after the first user turn.
        expect(first.messages.map((m) => m.role)).toEqual(["system", "user", "system"]);
      } else if (provider === "llamacpp") {
        expect(systemRoles).toBe(1);
      }
    });
  }
}
