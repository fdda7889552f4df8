import { chatChunk, openAiSse, startFakeUpstream, type FakeUpstream } from "./fake-upstream.ts";
import { launchTestGateway } from "./gateway.ts";
import { rowsOf } from "./storage-backends.ts";

// Two Claude Code sessions' worth of traffic through a real gateway to a fake OpenAI upstream:
// session A asks twice and mostly reads the upstream's prompt cache, session B asks once and
// reads none. Reports and the status line must keep them apart.

export const sessionA = "a1c35e0f-7d2b-4d7e-9a51-3f1c0d9e8b21";
export const sessionB = "b7e24c19-0a6f-4c3d-8e52-6d0b9a1f4c37";

export interface SessionTraffic {
  upstream: FakeUpstream;
  gateway: Awaited<ReturnType<typeof launchTestGateway>>;
  dbPath: string;
  send(sessionId: string, prompt: string, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export async function startSessionTraffic(env: Record<string, string> = {}): Promise<SessionTraffic> {
  const upstream = startFakeUpstream((req) => {
    const cached = req.text.includes("from A") ? 8000 : 0;
    const prompt = req.text.includes("from A") ? 9000 : 1000;
    const usage = chatChunk({}, null, { choices: [], usage: { prompt_tokens: prompt, completion_tokens: 20, total_tokens: prompt + 20, prompt_tokens_details: { cached_tokens: cached } } });
    return new Response(openAiSse([chatChunk({ role: "assistant", content: "" }), chatChunk({ content: "hi" }), chatChunk({}, "stop"), usage]).join(""), {
      headers: { "content-type": "text/event-stream" },
    });
  });
  const gateway = await launchTestGateway({
    MODEL_PROVIDER: "openai",
    OPENAI_API_KEY: "sk-test",
    OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions`,
    OPENAI_MODEL: "gpt-4o",
    ...env,
  });
  return {
    upstream,
    gateway,
    dbPath: `${gateway.dir}/lynkr.db`,
    send: (sessionId, prompt, headers = {}) =>
      fetch(`${gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "dummy", "x-claude-code-session-id": sessionId, ...headers },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 100, stream: true, messages: [{ role: "user", content: prompt }] }),
      }),
    async stop() {
      await gateway.shutdown();
      await upstream.stop();
    },
  };
}

/** Turns and usage are written just after each answer: wait until the database has them. */
export async function settle(traffic: SessionTraffic, sessionId: string, requests: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await rowsOf<{ n: number }>(traffic.gateway.gateway, `SELECT count(*) AS n FROM usage WHERE session_id = '${sessionId}'`);
    if ((row?.n ?? 0) >= requests) return;
    await Bun.sleep(10);
  }
  throw new Error(`session ${sessionId}: fewer than ${requests} usage rows`);
}
