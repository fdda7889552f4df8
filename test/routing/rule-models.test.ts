import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { anthropicSse, chatChunk, chunkedResponse, openAiSse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { ndjsonResponse, recordedNdjson, startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { turnEvents } from "../helpers/scripted-anthropic.ts";

// A rule's "provider,model" target: the request reaches that provider with that model, whatever
// its wire format, and the headers say so.

let ollama: FakeOllama;
let openai: FakeUpstream;
let anthropic: FakeUpstream;
let gateway: ReturnType<typeof startTestGateway>;
let client: Anthropic;

beforeAll(async () => {
  const lines = await recordedNdjson("chat-stream-text.ndjson");
  ollama = startFakeOllama({ "qwen3:4b": { capabilities: ["completion", "tools"] } }, () => ndjsonResponse(lines));
  const model = { model: "gpt-4.1" };
  openai = startFakeUpstream(() => chunkedResponse(openAiSse([chatChunk({ role: "assistant", content: "hi" }, null, model), chatChunk({}, "stop", model)])));
  anthropic = startFakeUpstream(() => chunkedResponse(anthropicSse(turnEvents({ blocks: [{ type: "text", text: "deep" }] }, "claude-opus-4-1"))));
  const dir = tempDir();
  const path = join(dir, "routing.json");
  writeFileSync(
    path,
    JSON.stringify({
      providers: { local: { type: "ollama", OLLAMA_ENDPOINT: ollama.url } },
      router: { background: "local,qwen3:4b", think: "anthropic,claude-opus-4-1", default: "openai,gpt-4.1" },
    }),
  );
  gateway = startTestGateway({
    LYNKR_CONFIG: path,
    ANTHROPIC_UPSTREAM_URL: anthropic.url,
    OPENAI_API_KEY: "sk-test",
    OPENAI_ENDPOINT: `${openai.url}/v1/chat/completions`,
  });
  client = new Anthropic({ baseURL: gateway.url, apiKey: "k", maxRetries: 0 });
});

afterAll(async () => {
  await gateway.shutdown();
  await Promise.all([ollama.stop(), openai.stop(), anthropic.stop()]);
});

const ask = (params: Partial<Anthropic.MessageCreateParamsNonStreaming>) =>
  client.messages.create({ model: "claude-x", max_tokens: 64, messages: [{ role: "user", content: "hi" }], ...params }).withResponse();

test("background → the named Ollama instance with the rule's model", async () => {
  const { response } = await ask({ model: "claude-haiku-4-5" });
  expect((ollama.chats().at(-1)?.json as { model: string }).model).toBe("qwen3:4b");
  expect(response.headers.get("x-lynkr-provider")).toBe("local");
  expect(response.headers.get("x-lynkr-model")).toBe("qwen3:4b");
  expect(response.headers.get("x-lynkr-route")).toBe("rule background: model claude-haiku-4-5");
});

test("think → Anthropic with the rule's model in the body", async () => {
  const { data, response } = await ask({ thinking: { type: "enabled", budget_tokens: 1024 }, max_tokens: 2048 });
  expect(data.content[0]?.type === "text" && data.content[0].text).toBe("deep");
  expect((anthropic.received.at(-1)?.json as { model: string }).model).toBe("claude-opus-4-1");
  expect(response.headers.get("x-lynkr-model")).toBe("claude-opus-4-1");
});

test("default → OpenAI with the rule's model", async () => {
  const { response } = await ask({});
  expect((openai.received.at(-1)?.json as { model: string }).model).toBe("gpt-4.1");
  expect(response.headers.get("x-lynkr-provider")).toBe("openai");
  expect(response.headers.get("x-lynkr-model")).toBe("gpt-4.1");
});

test("a client model name that is not ASCII still gets its routing headers", async () => {
  const { response } = await ask({ model: "claude-haiku-4-5-é✓" });
  expect(response.status).toBe(200);
  expect(response.headers.get("x-lynkr-route")).toBe("rule background: model claude-haiku-4-5-??");
});
