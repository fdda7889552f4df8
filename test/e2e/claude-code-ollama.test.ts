import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { OllamaChatRequest } from "../../src/providers/ollama/request.ts";
import { runClaudeCode, tempGitRepo } from "../helpers/claude-code.ts";
import { ndjsonResponse, startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.ts";
import { startTestGateway } from "../helpers/gateway.ts";

// The real Claude Code CLI on Ollama's native API: a fake Ollama (a thinking, tool-capable
// model) thinks, calls Edit (whole tool call in one NDJSON object, no id), then answers. The
// file must really change, and the history sent back must carry the thinking and the tool result.

const finalText = "Done: hello.txt now greets Ollama.";

let ollama: FakeOllama;
let gateway: ReturnType<typeof startTestGateway>;
let repo: string;

const line = (message: Record<string, unknown>, done = false, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "coder:7b", created_at: "2026-11-25T10:00:00Z", message: { role: "assistant", content: "", ...message }, done, ...extra });
const doneLine = line({}, true, { done_reason: "stop", prompt_eval_count: 900, eval_count: 30 });

function answer(body: OllamaChatRequest) {
  if (!body.tools || body.tools.length === 0) return ndjsonResponse([line({ content: "ok" }), doneLine]);
  const toolResults = body.messages.filter((m) => m.role === "tool");
  if (toolResults.length === 0) {
    return ndjsonResponse([
      line({ thinking: "I should edit " }),
      line({ thinking: "the greeting." }),
      line({ tool_calls: [{ function: { name: "Edit", arguments: { file_path: join(repo, "hello.txt"), old_string: "world", new_string: "Ollama" } } }] }),
      doneLine,
    ]);
  }
  return ndjsonResponse([...finalText.split(/(?<= )/).map((word) => line({ content: word })), doneLine]);
}

beforeAll(async () => {
  repo = await tempGitRepo({ "hello.txt": "Hello, world\n" });
  ollama = startFakeOllama({ "coder:7b": { capabilities: ["completion", "tools", "thinking"], contextLength: 32768 } }, (req) =>
    answer(req.json as OllamaChatRequest),
  );
  gateway = startTestGateway({ MODEL_PROVIDER: "ollama", OLLAMA_ENDPOINT: ollama.url, OLLAMA_MODEL: "coder:7b", OLLAMA_NUM_CTX: "32768" });
});

afterAll(async () => {
  await gateway.shutdown();
  await ollama.stop();
});

test("Claude Code thinks, edits a file and answers through Ollama's /api/chat", async () => {
  const run = await runClaudeCode({ baseUrl: gateway.url, prompt: "Make hello.txt greet Ollama.", cwd: repo, allowedTools: ["Read", "Edit"] });
  if (run.code !== 0) console.error(run.stdout, run.stderr);
  expect(run.code).toBe(0);
  expect(run.json?.result).toBe(finalText);
  expect(readFileSync(join(repo, "hello.txt"), "utf8")).toBe("Hello, Ollama\n");

  const chats = ollama.chats().map((r) => r.json as OllamaChatRequest);
  const last = chats.at(-1);
  expect(last?.model).toBe("coder:7b");
  expect(last?.options.num_ctx).toBe(32768);
  expect(last?.think).toBe(true);
  // Claude Code's twelve tools went to Ollama in its function shape.
  expect(last?.tools?.some((t) => t.function.name === "Edit")).toBe(true);
  const assistant = last?.messages.find((m) => m.role === "assistant" && m.tool_calls);
  expect(assistant?.thinking).toBe("I should edit the greeting.");
  expect(assistant?.tool_calls?.[0]?.function.name).toBe("Edit");
  const tool = last?.messages.find((m) => m.role === "tool");
  expect(tool?.tool_name).toBe("Edit");
  expect(tool?.content).toContain("hello.txt");
  // The billing block is not part of the prompt Ollama sees.
  expect(JSON.stringify(last?.messages)).not.toContain("x-anthropic-billing-header");
}, 120_000);
