import { expect, test } from "bun:test";
import { runClaudeCode } from "../helpers/claude-code.ts";
import { ndjsonResponse, startFakeOllama } from "../helpers/fake-ollama.ts";
import { anthropicSse, chatChunk, chunkedResponse, jsonResponse, openAiSse, readWire, startFakeUpstream, type FakeUpstream, type ReceivedRequest } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { isMainLoop, turnEvents } from "../helpers/scripted-anthropic.ts";

// The real Claude Code CLI against an upstream that is overloaded on every request, through lynkr,
// on each wire: the CLI's own retries (CLAUDE_CODE_MAX_RETRIES=2) are the only ones, so the
// upstream gets exactly the 3 calls it would get without lynkr, and the CLI ends with Anthropic's
// "API Error: … 529 Overloaded …". lynkr's breaker opens on the way (threshold 1), and still, the moment the
// upstream is healthy again, the next run succeeds at once: no lynkr-made lock-out.

const answerText = "The answer is 42.";

interface OverloadedWire {
  env(url: string): Record<string, string>;
  start(handler: (req: ReceivedRequest) => Response | Promise<Response>): FakeUpstream;
  /** What this provider's real API answers when it is overloaded. */
  overloaded(): Promise<Response>;
  answer(text: string): Response;
}

const anthropicStream = (text: string) => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text }] }, "claude-sonnet-4-5")));

const wires: Record<string, OverloadedWire> = {
  anthropic: {
    env: (url) => ({ MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: url }),
    start: (handler) => startFakeUpstream((req) => (req.url.pathname.endsWith("/count_tokens") ? jsonResponse({ input_tokens: 42 }) : handler(req))),
    overloaded: async () => jsonResponse(JSON.parse(await readWire("upstream/anthropic/error-529-overloaded.json")), 529),
    answer: anthropicStream,
  },
  openai: {
    env: (url) => ({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_ENDPOINT: `${url}/v1/chat/completions` }),
    start: (handler) => startFakeUpstream(handler),
    // OpenAI's documented overloaded answer: 503 with its own error body.
    overloaded: async () =>
      jsonResponse({ error: { message: "The engine is currently overloaded, please try again later.", type: "server_error", param: null, code: null } }, 503),
    answer: (text) => chunkedResponse(openAiSse([chatChunk({ role: "assistant", content: "" }), chatChunk({ content: text }), chatChunk({}, "stop")])),
  },
  ollama: {
    env: (url) => ({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: url, OLLAMA_MODEL: "coder:7b", OLLAMA_NUM_CTX: "32768" }),
    start: (handler) => startFakeOllama({ "coder:7b": { capabilities: ["completion", "tools"], contextLength: 32768 } }, handler),
    // Ollama with its request queue full (OLLAMA_MAX_QUEUE).
    overloaded: async () => jsonResponse({ error: "server busy, please try again.  maximum pending requests exceeded" }, 503),
    answer: (text) =>
      ndjsonResponse([
        JSON.stringify({ model: "coder:7b", created_at: "2026-12-06T00:00:00Z", message: { role: "assistant", content: text }, done: false }),
        JSON.stringify({ model: "coder:7b", created_at: "2026-12-06T00:00:00Z", message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 900, eval_count: 6 }),
      ]),
  },
};

const ask = (baseUrl: string) =>
  runClaudeCode({ baseUrl, prompt: "What is the answer?", env: { CLAUDE_CODE_MAX_RETRIES: "2", API_TIMEOUT_MS: "20000" }, timeoutMs: 40_000 });

for (const [name, wire] of Object.entries(wires)) {
  test(`${name}: 529 forever → exactly 3 upstream calls and API Error: 529; healthy again → the next run succeeds at once`, async () => {
    let healthy = false;
    let mainLoopCalls = 0;
    const upstream = wire.start((req) => {
      if (isMainLoop(req)) mainLoopCalls++;
      return healthy ? wire.answer(isMainLoop(req) ? answerText : "ok") : wire.overloaded();
    });
    // lynkr would retry an overloaded upstream for a client that does not retry (API_RETRY_MAX_RETRIES=3);
    // Claude Code does, so lynkr must not.
    const gateway = startTestGateway({ ...wire.env(upstream.url), CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1", API_RETRY_MAX_RETRIES: "3", API_RETRY_INITIAL_DELAY: "50" });
    try {
      const failing = await ask(gateway.url);
      const explain = `${failing.stdout}\n${failing.stderr}`;
      expect(failing.code, explain).toBe(1);
      expect(failing.json?.is_error).toBe(true);
      // What the CLI says against Anthropic itself (the baseline test below).
      expect(failing.json?.api_error_status, explain).toBe(529);
      expect(failing.json?.api_error_type).toBe("overloaded_error");
      expect(failing.json?.result).toMatch(/^API Error: Repeated 529 Overloaded errors\./);
      expect(mainLoopCalls, explain).toBe(3);
      const breakers = (await (await fetch(`${gateway.url}/metrics/circuit-breakers`)).json()) as { circuit_breakers: { state: string }[] };
      expect(breakers.circuit_breakers.map((c) => c.state)).toContain("open");

      healthy = true;
      const before = mainLoopCalls;
      const recovered = await ask(gateway.url);
      expect(recovered.code, `${recovered.stdout}\n${recovered.stderr}`).toBe(0);
      expect(recovered.json?.result).toBe(answerText);
      expect(mainLoopCalls - before).toBe(1);
    } finally {
      await gateway.shutdown();
      await upstream.stop();
    }
  }, 90_000);
}

test("baseline, no lynkr: an Anthropic upstream overloaded forever gets 3 calls and the CLI says API Error: … 529 Overloaded", async () => {
  let mainLoopCalls = 0;
  const wire = wires.anthropic!;
  const upstream = wire.start((req) => {
    if (isMainLoop(req)) mainLoopCalls++;
    return wire.overloaded();
  });
  try {
    const run = await ask(upstream.url);
    expect(run.code).toBe(1);
    expect(run.json?.api_error_status).toBe(529);
    expect(run.json?.result).toMatch(/^API Error: Repeated 529 Overloaded errors\./);
    expect(mainLoopCalls).toBe(3);
  } finally {
    await upstream.stop();
  }
}, 60_000);
