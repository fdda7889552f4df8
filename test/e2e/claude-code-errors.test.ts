import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { runClaudeCode, type ClaudeCodeResult } from "../helpers/claude-code.ts";
import { anthropicSse, chatChunk, chunkedResponse, jsonResponse, openAiSse, readWire, startFakeUpstream, type ReceivedRequest } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { isMainLoop, turnEvents, turnMessage } from "../helpers/scripted-anthropic.ts";

// Error fidelity as users meet it: the real Claude Code CLI (stream-json, so its retries show as
// `api_retry` lines) through lynkr to a fake upstream that fails the way real providers fail,
// once for an Anthropic-wire upstream and once for an OpenAI-compatible one. What is asserted is
// what the CLI did (exit code, result, retries) and how often each side was called.

const answerText = "The answer is 42.";

/** How one upstream family speaks: its provider settings, its errors and its streams. */
interface Wire {
  env(url: string): Record<string, string>;
  unauthorized(): Promise<Response>;
  promptTooLong(): Promise<Response>;
  overloaded(): Response;
  /** A whole streamed answer, one SSE event per chunk. */
  stream(text: string, body: unknown): string[];
}

const anthropicWire: Wire = {
  env: (url) => ({ MODEL_PROVIDER: "anthropic", ANTHROPIC_UPSTREAM_URL: url }),
  // Anthropic's recorded bodies, without the x-should-retry header: lynkr must add it.
  unauthorized: async () => jsonResponse(JSON.parse(await readWire("upstream/anthropic/error-401-authentication.json")), 401),
  promptTooLong: async () => jsonResponse(JSON.parse(await readWire("upstream/anthropic/error-400-prompt-too-long.json")), 400),
  overloaded: () => jsonResponse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, 529, { "retry-after": "1" }),
  stream: (text, body) => {
    const model = (body as { model?: unknown }).model;
    return anthropicSse(turnEvents({ blocks: [{ type: "text", text }] }, typeof model === "string" ? model : "claude-sonnet-4-5"));
  },
};

const openAiWire: Wire = {
  env: (url) => ({ MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-bad", OPENAI_ENDPOINT: `${url}/v1/chat/completions` }),
  unauthorized: async () => jsonResponse(JSON.parse(await readWire("upstream/openai-chat/error-401-invalid-api-key.json")), 401),
  promptTooLong: async () => jsonResponse(JSON.parse(await readWire("upstream/openai-chat/error-400-context-length-exceeded.json")), 400),
  // OpenAI's documented 503 wording.
  overloaded: () =>
    jsonResponse({ error: { message: "The engine is currently overloaded, please try again later.", type: "server_error", param: null, code: null } }, 503, { "retry-after": "1" }),
  stream: (text) =>
    openAiSse([chatChunk({ role: "assistant", content: "" }), ...text.split(/(?<= )/).map((word) => chatChunk({ content: word })), chatChunk({}, "stop")]),
};

const wires = { anthropic: anthropicWire, openai: openAiWire };

interface Outcome {
  run: ClaudeCodeResult;
  /** Main-loop requests the upstream received. */
  upstreamCalls: number;
  /** /v1/messages requests lynkr answered, from its own turns table (stream: 1 or 0). */
  turns: { stream: number; status: number; error: string | null }[];
  /** The CLI's `api_retry` lines. */
  retries: ClaudeCodeResult["events"];
}

/**
 * One CLI run through lynkr to a fake upstream whose Nth main-loop request is answered by
 * `script(n)`; side calls get a plain streamed "ok".
 */
async function scenario(wire: Wire, script: (n: number, req: ReceivedRequest) => Response | Promise<Response>): Promise<Outcome> {
  let calls = 0;
  const upstream = startFakeUpstream((req) => {
    if (req.url.pathname.endsWith("/count_tokens")) return jsonResponse({ input_tokens: 42 });
    if (!isMainLoop(req)) return chunkedResponse(wire.stream("ok", req.json));
    return script(calls++, req);
  });
  const gateway = startTestGateway({
    ...wire.env(upstream.url),
    // lynkr's own retries (one, quick, honouring a retry-after of 1 s) for a client that does
    // not retry: Claude Code does, so they must never show.
    API_RETRY_MAX_RETRIES: "1",
    API_RETRY_INITIAL_DELAY: "50",
    API_RETRY_MAX_DELAY: "2000",
  });
  try {
    const run = await askClaudeCode(gateway.url);
    // Turns are written just after the answer went out.
    await Bun.sleep(50);
    const db = new Database(join(gateway.dir, "lynkr.db"), { readonly: true });
    const turns = db.query<Outcome["turns"][number], []>("SELECT stream, status, error FROM turns ORDER BY id").all();
    db.close();
    return { run, upstreamCalls: calls, turns, retries: retriesOf(run) };
  } finally {
    await gateway.shutdown();
    await upstream.stop();
  }
}

function askClaudeCode(baseUrl: string): Promise<ClaudeCodeResult> {
  return runClaudeCode({
    baseUrl,
    prompt: "What is the answer?",
    outputFormat: "stream-json",
    env: { CLAUDE_CODE_MAX_RETRIES: "2", API_TIMEOUT_MS: "20000" },
    timeoutMs: 40_000,
  });
}

function retriesOf(run: ClaudeCodeResult): ClaudeCodeResult["events"] {
  return run.events.filter((e) => e.type === "system" && e.subtype === "api_retry");
}

function explain(outcome: Outcome): string {
  const { run } = outcome;
  return `result: ${JSON.stringify(run.json?.result)} (${String(run.json?.terminal_reason)})\nretries: ${JSON.stringify(outcome.retries)}\n${run.stderr}\nupstream calls: ${outcome.upstreamCalls}\nturns: ${JSON.stringify(outcome.turns)}`;
}

/** The CLI's assistant messages that carry text (one per answer it accepted). */
function answersShown(run: ClaudeCodeResult): string[] {
  return run.events.flatMap((e) => {
    if (e.type !== "assistant") return [];
    const content = (e.message as { content?: { type: string; text?: string }[] } | undefined)?.content ?? [];
    return content.filter((b) => b.type === "text").map((b) => b.text ?? "");
  });
}

const anthropicMidstreamError = async () => `event: error\ndata: ${(await readWire("upstream/anthropic/error-midstream-overloaded.data.json")).trim()}\n\n`;

for (const [name, wire] of Object.entries(wires)) {
  test(`${name}: a bad upstream key stops the CLI at once; nobody retries the 401`, async () => {
    const outcome = await scenario(wire, () => wire.unauthorized());
    const { run } = outcome;
    expect(run.code, explain(outcome)).toBe(1);
    expect(run.json?.is_error).toBe(true);
    // Claude Code retries a 401 ten times unless lynkr says x-should-retry: false.
    expect(outcome.retries).toEqual([]);
    expect(outcome.upstreamCalls).toBe(1);
    expect(outcome.turns.map((t) => t.status)).toEqual([401]);
    expect(run.json?.result).toMatch(/Invalid API key|Failed to authenticate/);
  }, 60_000);

  test(`${name}: a context-length error reaches the CLI as prompt too long, with the upstream's numbers, without retries`, async () => {
    const outcome = await scenario(wire, () => wire.promptTooLong());
    const { run } = outcome;
    expect(run.code, explain(outcome)).toBe(1);
    expect(run.json?.is_error).toBe(true);
    expect(run.json?.terminal_reason).toBe("prompt_too_long");
    expect(run.json?.result).toStartWith("Prompt is too long");
    expect(run.json?.result).toContain(name === "openai" ? "~4294 tokens (limit 4097)" : "~200251 tokens (limit 200000)");
    expect(outcome.retries).toEqual([]);
    expect(outcome.upstreamCalls).toBe(1);
    expect(outcome.turns.map((t) => t.status)).toEqual([400]);
  }, 60_000);

  test(`${name}: overloaded with retry-after: 1, then success: lynkr passes it on (no retry under the CLI's), the CLI waits and gets the answer once`, async () => {
    // lynkr's own retries are on (API_RETRY_MAX_RETRIES=1) but the CLI retries by itself.
    const outcome = await scenario(wire, (n, req) => (n === 0 ? wire.overloaded() : chunkedResponse(wire.stream(answerText, req.json))));
    const { run } = outcome;
    expect(run.code, explain(outcome)).toBe(0);
    expect(run.json?.result).toBe(answerText);
    expect(answersShown(run)).toEqual([answerText]);
    expect(outcome.retries).toHaveLength(1);
    const [retry] = outcome.retries;
    // OpenAI's overloaded 503 reaches the CLI as Anthropic's 529.
    expect(retry?.error_status).toBe(529);
    // retry-after: 1 reached the CLI (its own backoff would start near 0.5 s).
    expect(Number(retry?.retry_delay_ms)).toBeGreaterThanOrEqual(1000);
    expect(outcome.upstreamCalls).toBe(2);
    expect(outcome.turns.map((t) => [t.stream, t.status])).toEqual([[1, 529], [1, 200]]);
  }, 60_000);

  test(`${name}: an upstream dying after the first text: an error event, one re-send, the answer once`, async () => {
    const outcome = await scenario(wire, (n, req) => {
      const chunks = wire.stream(n === 0 ? "This answer is cut short by the upstream." : answerText, req.json);
      return chunkedResponse(chunks, n === 0 ? { dieAfter: 4, delayMs: 30 } : {});
    });
    const { run } = outcome;
    expect(run.code, explain(outcome)).toBe(0);
    expect(run.json?.result).toBe(answerText);
    expect(answersShown(run)).toEqual([answerText]);
    expect(outcome.upstreamCalls).toBe(2);
    // The cut stream ended with an event: error naming the upstream, not silently.
    const [cut, resent] = outcome.turns;
    expect(cut?.stream).toBe(1);
    expect(cut?.error).toContain("connection lost mid-stream");
    // Claude Code 2.1.328 answers any error event after text was shown by re-sending the turn
    // once with stream:false, against Anthropic itself too (the baseline test below): one extra
    // call, as a streaming retry would cost. Only a transport-level cut (no error event) makes
    // it retry streaming instead; an error event before any content does too (last test).
    expect(resent?.stream).toBe(0);
    expect(resent?.status).toBe(200);
    expect(outcome.turns).toHaveLength(2);
  }, 60_000);
}

test("baseline, no lynkr: Anthropic's own mid-stream error after the first text makes Claude Code re-send with stream:false too", async () => {
  const errorEvent = await anthropicMidstreamError();
  const streams: unknown[] = [];
  const upstream = startFakeUpstream(async (req) => {
    if (req.url.pathname.endsWith("/count_tokens")) return jsonResponse({ input_tokens: 42 });
    if (!isMainLoop(req)) return chunkedResponse(anthropicWire.stream("ok", req.json));
    const body = req.json as { stream?: boolean };
    streams.push(body.stream);
    if (body.stream !== true) return jsonResponse(turnMessage({ blocks: [{ type: "text", text: answerText }] }, "claude-sonnet-4-5"));
    return chunkedResponse([...anthropicWire.stream("This answer is cut short.", req.json).slice(0, 4), errorEvent], { delayMs: 30 });
  });
  try {
    const run = await askClaudeCode(upstream.url);
    expect(run.json?.result, run.stdout).toBe(answerText);
    expect(streams).toEqual([true, false]);
  } finally {
    await upstream.stop();
  }
}, 60_000);

test("anthropic: the upstream's own overloaded error before any content passes through; the CLI retries streaming, never stream:false", async () => {
  const errorEvent = await anthropicMidstreamError();
  const outcome = await scenario(anthropicWire, async (n, req) => {
    const chunks = anthropicWire.stream(answerText, req.json);
    return chunkedResponse(n === 0 ? [...chunks.slice(0, 1), errorEvent] : chunks, { delayMs: 10 });
  });
  const { run } = outcome;
  expect(run.code, explain(outcome)).toBe(0);
  expect(run.json?.result).toBe(answerText);
  expect(answersShown(run)).toEqual([answerText]);
  expect(outcome.upstreamCalls).toBe(2);
  expect(outcome.turns.map((t) => [t.stream, t.status])).toEqual([[1, 529], [1, 200]]);
}, 60_000);
