import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.ts";
import { chatChunk, openAiSse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { recordedSession, type RecordedRequest } from "../helpers/recorded-sessions.ts";

// The optimize step in the running gateway: the recorded session that loads a deferred tool,
// sent as Claude Code sent it (its session header included), through OpenAI and Ollama fakes.

type Recorded = Pick<RecordedRequest, "headers"> & { body: { tools: { name: string; description?: string }[] } };

const recorded = recordedSession("deferred-tool-load") as Recorded[];
const passed = new Set(["anthropic-version", "anthropic-beta", "x-claude-code-session-id", "content-type"]);

function send(url: string, r: Recorded, extra: Record<string, string> = {}): Promise<Response> {
  const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => passed.has(k)));
  return fetch(`${url}/v1/messages?beta=true`, { method: "POST", headers: { ...headers, "x-api-key": "k", ...extra }, body: JSON.stringify(r.body) });
}

type ChatBody = { tools?: { function: { name: string; description?: string } }[] };
const toolNames = (body: unknown) => ((body as ChatBody).tools ?? []).map((t) => t.function.name);

describe("OpenAI wire (gpt-4o: full profile)", () => {
  let upstream: FakeUpstream;
  beforeAll(() => {
    const sse = openAiSse([chatChunk({ role: "assistant", content: "ok" }), chatChunk({}, "stop")]).join("");
    upstream = startFakeUpstream(() => new Response(sse, { headers: { "content-type": "text/event-stream" } }));
  });
  afterAll(() => upstream.stop());
  const env = () => ({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` });

  test("the tool Claude Code loads mid-session is appended upstream; the response says what was done", async () => {
    const gateway = startTestGateway(env());
    try {
      const before = upstream.received.length;
      const said: string[] = [];
      for (const r of recorded) {
        const res = await send(gateway.url, r);
        expect(res.status).toBe(200);
        await res.text();
        said.push(res.headers.get("x-lynkr-optimize") ?? "");
      }
      expect(said).toEqual(["profile=full", "profile=full,tool-order=sticky", "profile=full,tool-order=sticky", "profile=full,tool-order=sticky"]);
      const bodies = upstream.received.slice(before).map((r) => r.json);
      const first = toolNames(bodies[0]);
      for (const body of bodies.slice(1)) expect(toolNames(body)).toEqual([...first, "WebFetch"]);
      // Each request is counted once its answer is over, just after the client read it.
      type Metrics = { optimize: { profiles: Record<string, number>; actions: Record<string, number> } };
      let metrics: Metrics;
      for (let tries = 0; ; tries++) {
        metrics = (await (await fetch(`${gateway.url}/metrics/observability`)).json()) as Metrics;
        if (metrics.optimize.profiles.full === 4 || tries === 100) break;
        await Bun.sleep(20);
      }
      expect(metrics.optimize.profiles).toEqual({ full: 4 });
      expect(metrics.optimize.actions).toEqual({ "tool-order=sticky": 3 });
    } finally {
      await gateway.shutdown();
    }
  });

  test("x-lynkr-optimize: off sends the request as the client did, for that request alone", async () => {
    const gateway = startTestGateway(env());
    try {
      const before = upstream.received.length;
      const [first, second] = recorded as [Recorded, Recorded];
      await (await send(gateway.url, first)).text();
      const res = await send(gateway.url, second, { "x-lynkr-optimize": "off" });
      await res.text();
      expect(res.headers.get("x-lynkr-optimize")).toBe("off");
      expect(toolNames(upstream.received[before + 1]?.json)).toEqual(second.body.tools.map((t) => t.name));
    } finally {
      await gateway.shutdown();
    }
  });

  test("OPTIMIZE_PROFILE=off and OPTIMIZE_DISABLE=tool-order leave the tool order alone", async () => {
    const variants: Record<string, string>[] = [{ OPTIMIZE_PROFILE: "off" }, { OPTIMIZE_DISABLE: "tool-order" }];
    for (const extra of variants) {
      const gateway = startTestGateway({ ...env(), ...extra });
      try {
        const before = upstream.received.length;
        for (const r of recorded.slice(0, 2)) await (await send(gateway.url, r)).text();
        expect(toolNames(upstream.received[before + 1]?.json)).toEqual((recorded[1] as Recorded).body.tools.map((t) => t.name));
      } finally {
        await gateway.shutdown();
      }
    }
  });

  test("an unknown x-lynkr-optimize value is a 400 naming the valid ones, and never reaches the upstream", async () => {
    const gateway = startTestGateway(env());
    try {
      const before = upstream.received.length;
      const res = await send(gateway.url, recorded[0] as Recorded, { "x-lynkr-optimize": "tiny" });
      expect(res.status).toBe(400);
      expect(res.headers.get("x-should-retry")).toBe("false");
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body.error.type).toBe("invalid_request_error");
      expect(body.error.message).toContain("auto, full, small, off");
      expect(upstream.received.length).toBe(before);
    } finally {
      await gateway.shutdown();
    }
  });
});

describe("Ollama with a 16k window (auto: small profile)", () => {
  let ollama: FakeOllama;
  beforeAll(() => {
    const lines = [
      { model: "qwen2.5-coder:7b", message: { role: "assistant", content: "ok" }, done: false },
      { model: "qwen2.5-coder:7b", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 10, eval_count: 1 },
    ].map((l) => `${JSON.stringify(l)}\n`);
    ollama = startFakeOllama({ "qwen2.5-coder:7b": { capabilities: ["completion", "tools"], contextLength: 16_384 } }, () =>
      new Response(lines.join(""), { headers: { "content-type": "application/x-ndjson" } }),
    );
  });
  afterAll(() => ollama.stop());

  test("tools are compacted and the system prompt slimmed; every tool and parameter name is kept", async () => {
    const gateway = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "qwen2.5-coder:7b" });
    try {
      const r = recorded[0] as Recorded;
      const res = await send(gateway.url, r);
      expect(res.status).toBe(200);
      await res.text();
      expect(res.headers.get("x-lynkr-optimize")).toBe("profile=small,tools=compact,system=slim");
      const sent = ollama.chats().at(-1)?.json as { tools: { function: { name: string; description: string; parameters: { properties: Record<string, unknown> } } }[] };
      expect(sent.tools.map((t) => t.function.name)).toEqual(r.body.tools.map((t) => t.name));
      const sentChars = JSON.stringify(sent.tools).length;
      expect(sentChars).toBeLessThan(0.5 * JSON.stringify(r.body.tools).length);
    } finally {
      await gateway.shutdown();
    }
  });
});
