import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readWire, startFakeUpstream, type FakeUpstream } from "../../helpers/fake-upstream.ts";
import { startTestGateway } from "../../helpers/gateway.ts";
import {
  bytesResponse,
  concatenated,
  isStream,
  normaliseIds,
  recordedChunks,
  recordingFolders,
  recordings,
  splitAtRandomBytes,
  sseBody,
} from "./replay.ts";

// Every recorded OpenAI-style upstream answer, replayed by a fake upstream through the gateway
// and read back with @anthropic-ai/sdk's stream accumulator (and, for errors, its error classes).

type Block = "text" | "thinking" | `tool_use:${string}`;

interface Expected {
  blocks?: Block[];
  stop?: string;
  /** Exact text; `true` = the text deltas of the recording, concatenated. */
  text?: string | true;
  /** Exact thinking; `true` = the recording's reasoning deltas, concatenated. */
  thinking?: string | true;
  inputs?: unknown[];
  usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number };
  model?: string;
  /** An error instead of a message. */
  error?: { status: number; type: string; message: RegExp; retry?: "false" };
}

const expected: Record<string, Expected> = {
  "openai-chat/compat-alibaba-stream-tool-call-empty-id-continuation.chunks.txt": {
    blocks: ["tool_use:weather"], stop: "tool_use", inputs: [{ location: "San Francisco" }],
    usage: { input_tokens: 295, output_tokens: 22, cache_read_input_tokens: 0 }, model: "qwen3-max",
  },
  "openai-chat/compat-anthropic-openai-endpoint-tool-call-index-1.sse": {
    blocks: ["text", "tool_use:read_file"], text: "Reading it.", stop: "tool_use", inputs: [{ path: "a.txt" }],
  },
  "openai-chat/compat-groq-error-400-tool-use-failed.json": {
    error: { status: 400, type: "invalid_request_error", message: /^Tool call validation failed: .*get_something_by_name/, retry: "false" },
  },
  "openai-chat/compat-groq-stream-tool-call-args-in-one-chunk.chunks.txt": {
    blocks: ["tool_use:weather"], stop: "tool_use", inputs: [{}], usage: { input_tokens: 210, output_tokens: 15 },
  },
  "openai-chat/error-400-context-length-exceeded.json": {
    error: { status: 400, type: "invalid_request_error", message: /^prompt is too long: 4294 tokens > 4097 maximum$/, retry: "false" },
  },
  "openai-chat/error-400-unsupported-parameter.json": {
    error: { status: 400, type: "invalid_request_error", message: /^Unsupported parameter: 'max_tokens' is not supported/, retry: "false" },
  },
  "openai-chat/error-401-invalid-api-key.json": {
    error: { status: 401, type: "authentication_error", message: /^Incorrect API key provided/, retry: "false" },
  },
  "openai-chat/error-404-model-not-found.json": {
    error: { status: 404, type: "not_found_error", message: /gpt-5\.2-proo. does not exist/, retry: "false" },
  },
  "openai-chat/error-429-insufficient-quota.json": {
    error: { status: 429, type: "rate_limit_error", message: /exceeded your current quota/, retry: "false" },
  },
  "openai-chat/message-cached-tokens.json": {
    blocks: ["text"], text: "OK", stop: "end_turn", usage: { input_tokens: 8, output_tokens: 4, cache_read_input_tokens: 4012 },
  },
  "openai-chat/message-legacy-function-call.json": {
    blocks: ["tool_use:get_weather"], stop: "tool_use", inputs: [{ location: "Boston" }], usage: { input_tokens: 62, output_tokens: 14 },
  },
  "openai-chat/message-text.json": {
    blocks: ["text"], stop: "end_turn", usage: { input_tokens: 13, output_tokens: 31 }, model: "gpt-3.5-turbo-0125",
  },
  "openai-chat/stream-parallel-tool-calls-no-args.sse": {
    blocks: ["tool_use:get_country", "tool_use:get_product_name"], stop: "tool_use", inputs: [{}, {}],
    usage: { input_tokens: 364, output_tokens: 40 },
  },
  "openai-chat/stream-single-tool-call.sse": {
    blocks: ["tool_use:get_capital"], stop: "tool_use", inputs: [{ country: "UK" }], usage: { input_tokens: 53, output_tokens: 15 },
  },
  "openai-chat/stream-text-moderation-trailing-chunk.sse": {
    blocks: ["text"], text: "Paris.", stop: "end_turn", usage: { input_tokens: 13, output_tokens: 11 },
  },
  "openai-chat/stream-text.sse": {
    blocks: ["text"], text: "1, 2, 3, 4, 5", stop: "end_turn", usage: { input_tokens: 14, output_tokens: 13 }, model: "gpt-3.5-turbo-0125",
  },
  "azure-openai/error-400-content-filter.json": {
    error: { status: 400, type: "invalid_request_error", message: /^The response was filtered due to the prompt triggering Azure OpenAI’s/ },
  },
  "azure-openai/stream-deepseek-reasoning-matched-stop.chunks.txt": {
    blocks: ["thinking", "text"], thinking: true, text: true, stop: "end_turn", usage: { input_tokens: 19, output_tokens: 1720 },
  },
  "azure-openai/stream-model-router-prompt-filter-first-chunk.chunks.txt": {
    blocks: ["text"], text: "Capital of Denmark.", stop: "end_turn", usage: { input_tokens: 15, output_tokens: 78 }, model: "gpt-5-nano-2025-08-07",
  },
  "openrouter/error-429-provider-rate-limited.json": {
    error: { status: 429, type: "rate_limit_error", message: /^Provider returned error$/ },
  },
  "openrouter/error-429-rate-limit.json": {
    error: { status: 429, type: "rate_limit_error", message: /^Rate limit exceeded: limit_rpm/ },
  },
  "openrouter/message-tool-call.json": {
    blocks: ["tool_use:divide"], stop: "tool_use", inputs: [{ numerator: 123, denominator: 456, on_inf: "infinity" }],
    usage: { input_tokens: 134, output_tokens: 43 },
  },
  // finish_reason length, then OpenRouter's own "Token limit reached" error chunk: the answer was cut.
  "openrouter/stream-midstream-error-token-limit.sse": {
    blocks: ["thinking"], thinking: true, stop: "max_tokens", usage: { input_tokens: 43, output_tokens: 10 },
  },
  "openrouter/stream-openai-o3-encrypted-reasoning.sse": {
    blocks: ["text"], text: true, stop: "end_turn", usage: { input_tokens: 9, output_tokens: 104 }, model: "openai/o3",
  },
  "openrouter/stream-reasoning-details-processing-comments.sse": {
    blocks: ["thinking", "text"], thinking: true, text: "2 + 2 = 4", stop: "end_turn", usage: { input_tokens: 43, output_tokens: 36 },
  },
  "openrouter/stream-text-usage-cost.sse": {
    blocks: ["text"], text: "test response", stop: "end_turn", usage: { input_tokens: 586, output_tokens: 3 },
  },
  "openrouter/stream-tool-call-name-then-args.sse": {
    blocks: ["tool_use:llm_version"], stop: "tool_use", inputs: [{}], usage: { input_tokens: 56, output_tokens: 12 },
  },
  // No finish_reason at all, but [DONE] and a tool call: the answer is complete.
  "openrouter/stream-tool-call-no-args.sse": {
    blocks: ["tool_use:llm_version"], stop: "tool_use", inputs: [{}], usage: { input_tokens: 57, output_tokens: 17 },
  },
  "llamacpp/completion-reasoning-content-timings.json": {
    blocks: ["thinking", "text"], stop: "end_turn",
  },
  "llamacpp/completion-reasoning-length-empty-content.json": {
    blocks: ["thinking"], thinking: "First, I need to determine the positions of both the hour and minute hands on", stop: "max_tokens",
    usage: { input_tokens: 106, output_tokens: 16, cache_read_input_tokens: 0 },
  },
  "llamacpp/stream-content-then-tool-call-timings.chunks.txt": {
    blocks: ["text", "tool_use:get_current_weather"], text: true, stop: "tool_use", inputs: [{ location: "Washington DC" }],
    usage: { input_tokens: 15, output_tokens: 35, cache_read_input_tokens: 314 },
  },
  // Two chunks from the middle of a stream: no finish, no [DONE] — a stream that broke off.
  "llamacpp/stream-excerpt-timings-every-chunk.sse": {
    error: { status: 200, type: "api_error", message: /closed the stream before finishing the answer/ },
  },
  "llamacpp/stream-gpt-oss-harmony-in-content.chunks.txt": {
    blocks: ["text"], text: true, stop: "end_turn", usage: { input_tokens: 82, output_tokens: 43 },
  },
  // A capture that starts inside a tool call and whose last chunk was cut by a raw newline.
  "llamacpp/stream-tail-tool-call-verbose-done.sse": {
    error: { status: 200, type: "api_error", message: /sent a chunk that is not JSON/ },
  },
  "deepseek-or-reasoning/deepseek-message-cache-hit.json": {
    blocks: ["thinking", "text"], stop: "end_turn", usage: { input_tokens: 175, output_tokens: 144, cache_read_input_tokens: 320 },
  },
  "deepseek-or-reasoning/deepseek-message-reasoning.json": {
    blocks: ["thinking", "text"], stop: "end_turn", usage: { input_tokens: 18, output_tokens: 345, cache_read_input_tokens: 0 },
  },
  "deepseek-or-reasoning/deepseek-stream-reasoning-then-tool-call.chunks.txt": {
    blocks: ["thinking", "tool_use:weather"], thinking: true, stop: "tool_use", inputs: [{ location: "San Francisco" }],
    usage: { input_tokens: 19, output_tokens: 83, cache_read_input_tokens: 320 },
  },
  "deepseek-or-reasoning/deepseek-stream-reasoning.sse": {
    blocks: ["thinking", "text"], thinking: true, text: "Hello there! 😊 How can I help you today?", stop: "end_turn",
    usage: { input_tokens: 6, output_tokens: 212, cache_read_input_tokens: 0 },
  },
  "deepseek-or-reasoning/mistral-stream-thinking-content-array.chunks.txt": {
    blocks: ["thinking", "text"], thinking: "The user is asking for 2+2. This is basic arithmetic. 2+2=4.", text: "2 + 2 = 4", stop: "end_turn",
    usage: { input_tokens: 10, output_tokens: 46 },
  },
  "deepseek-or-reasoning/xai-stream-reasoning-tool-call.chunks.txt": {
    blocks: ["thinking", "tool_use:weather"], thinking: true, stop: "tool_use", inputs: [{ location: "San Francisco" }],
    usage: { input_tokens: 1, output_tokens: 26, cache_read_input_tokens: 290 },
  },
  "deepseek-or-reasoning/zai-stream-reasoning.sse": {
    blocks: ["thinking", "text"], thinking: true, text: "4", stop: "end_turn", usage: { input_tokens: 13, output_tokens: 564 },
  },
};

const providerFor: Record<string, Record<string, string>> = {
  "openai-chat": { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-test" },
  "deepseek-or-reasoning": { MODEL_PROVIDER: "openai", OPENAI_API_KEY: "sk-test" },
  "azure-openai": { MODEL_PROVIDER: "azure-openai", AZURE_OPENAI_API_KEY: "az-key", AZURE_OPENAI_DEPLOYMENT: "gpt-5-nano" },
  openrouter: { MODEL_PROVIDER: "openrouter", OPENROUTER_API_KEY: "or-key" },
  llamacpp: { MODEL_PROVIDER: "llamacpp" },
};

let upstream: FakeUpstream;
let next: () => Response | Promise<Response> = () => new Response("no script", { status: 500 });
const gateways = new Map<string, ReturnType<typeof startTestGateway>>();

beforeAll(() => {
  upstream = startFakeUpstream(() => next());
  for (const [folder, env] of Object.entries(providerFor)) {
    const endpoint: Record<string, string> =
      folder === "azure-openai" ? { AZURE_OPENAI_ENDPOINT: upstream.url }
      : folder === "openrouter" ? { OPENROUTER_ENDPOINT: `${upstream.url}/api/v1/chat/completions` }
      : folder === "llamacpp" ? { LLAMACPP_ENDPOINT: upstream.url }
      : { OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` };
    // Routing's retries and circuit breaker would turn the recorded 429s into waits: off here.
    gateways.set(folder, startTestGateway({ ...env, ...endpoint, API_RETRY_MAX_RETRIES: "0", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000" }));
  }
});

afterAll(async () => {
  for (const gateway of gateways.values()) await gateway.shutdown();
  await upstream.stop();
});

function client(folder: string): Anthropic {
  const gateway = gateways.get(folder);
  if (!gateway) throw new Error(`no gateway for ${folder}`);
  return new Anthropic({ baseURL: gateway.url, apiKey: "client-key", maxRetries: 0 });
}

const request = { model: "claude-opus-5-5", max_tokens: 1024, messages: [{ role: "user" as const, content: "hi" }] };

async function script(path: string): Promise<void> {
  const file = path.split("/")[1] ?? "";
  if (isStream(file)) {
    const body = await sseBody(path);
    next = () => bytesResponse([new TextEncoder().encode(body)]);
    return;
  }
  const text = await readWire(`upstream/${path}`);
  const status = Number(/(?:^|-)error-(\d{3})-/.exec(file)?.[1] ?? 200);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (status === 429) headers["retry-after"] = "7";
  next = () => new Response(text, { status, headers });
}

function blockKinds(message: Anthropic.Message): string[] {
  return message.content.map((b) => (b.type === "tool_use" ? `tool_use:${b.name}` : b.type));
}

test("every recording in the provider folders has an expectation", () => {
  const files = recordingFolders.flatMap((folder) => recordings(folder).map((file) => `${folder}/${file}`));
  expect(files.filter((f) => !(f in expected))).toEqual([]);
  expect(Object.keys(expected).filter((f) => !files.includes(f))).toEqual([]);
});

for (const folder of recordingFolders) {
  describe(folder, () => {
    for (const file of recordings(folder)) {
      const path = `${folder}/${file}`;
      const want = expected[path];
      if (!want) continue;

      test(`${file} → the SDK's final message`, async () => {
        await script(path);
        if (want.error) {
          const failure = await client(folder)
            .messages.stream(request)
            .finalMessage()
            .then(
              () => undefined,
              (error: unknown) => error,
            );
          expect(failure).toBeInstanceOf(Anthropic.APIError);
          const error = failure as InstanceType<typeof Anthropic.APIError>;
          const body = error.error as { error?: { type?: string; message?: string } } | undefined;
          expect(body?.error?.type).toBe(want.error.type);
          expect(body?.error?.message ?? "").toMatch(want.error.message);
          if (want.error.status !== 200) {
            expect(error.status).toBe(want.error.status);
            if (want.error.retry) expect(error.headers?.get("x-should-retry")).toBe(want.error.retry);
            if (want.error.status === 429) expect(error.headers?.get("retry-after")).toBe("7");
          }
          return;
        }
        const message = await client(folder).messages.stream(request).finalMessage();
        expect(message.id).toMatch(/^msg_01/);
        expect(blockKinds(message)).toEqual(want.blocks ?? []);
        expect(message.stop_reason).toBe(want.stop as Anthropic.Message["stop_reason"]);
        const chunks = isStream(file) ? await recordedChunks(path) : [];
        const oracle = concatenated(chunks);
        const text = message.content.filter((b) => b.type === "text").map((b) => b.text).join("");
        const thinking = message.content.filter((b) => b.type === "thinking").map((b) => b.thinking).join("");
        if (want.text !== undefined) expect(text).toBe(want.text === true ? oracle.text : want.text);
        if (want.thinking !== undefined) expect(thinking).toBe(want.thinking === true ? oracle.reasoning : want.thinking);
        for (const block of message.content) {
          if (block.type === "thinking") expect(block.signature).toStartWith("lynkr-thinking.");
          if (block.type === "tool_use") expect(block.id).toMatch(/^toolu_01/);
        }
        if (want.inputs) expect(message.content.filter((b) => b.type === "tool_use").map((b) => b.input)).toEqual(want.inputs);
        if (want.usage) expect(message.usage).toMatchObject(want.usage);
        else expect(message.usage.output_tokens).toBeGreaterThan(0);
        if (want.model) expect(message.model).toBe(want.model);
        else expect(message.model.length).toBeGreaterThan(0);
      });

      if (isStream(file) && !want.error) {
        test(`${file} split at random bytes → identical events`, async () => {
          const body = await sseBody(path);
          const gateway = gateways.get(folder);
          if (!gateway) throw new Error("no gateway");
          const read = async (pieces: Uint8Array[]) => {
            next = () => bytesResponse(pieces);
            const res = await fetch(`${gateway.url}/v1/messages`, {
              method: "POST",
              headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
              body: JSON.stringify({ ...request, stream: true }),
            });
            return normaliseIds(await res.text());
          };
          const whole = await read([new TextEncoder().encode(body)]);
          expect(whole).toContain("event: message_stop");
          for (const seed of [1, 7, 42]) {
            const pieces = Math.min(60, Math.max(2, Math.floor(body.length / 40)));
            expect(await read(splitAtRandomBytes(body, seed, pieces))).toBe(whole);
          }
          // One byte at a time: every line and every UTF-8 character split.
          if (body.length < 20_000) expect(await read(splitAtRandomBytes(body, 3, body.length))).toBe(whole);
        });
      }
    }
  });
}
