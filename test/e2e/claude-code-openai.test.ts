import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionToolMessageParam } from "openai/resources/chat/completions";
import { chatChunk, openAiSse, startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { runClaudeCode, tempGitRepo } from "../helpers/claude-code.ts";

// The real Claude Code CLI through lynkr to a fake OpenAI-compatible upstream that scripts a
// tool-use conversation: parallel Bash + Read, then Edit, then the final answer. The file must
// really change and the final text must arrive.

const finalText = "Done: the greeting now says hello to lynkr.";

let upstream: FakeUpstream;
let repo: string;

const usage = chatChunk({}, null, { choices: [], usage: { prompt_tokens: 9000, completion_tokens: 40, total_tokens: 9040, prompt_tokens_details: { cached_tokens: 8000 } } });

type ReasoningDelta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string };

const reasoning = "The user wants the greeting changed. I will look at the files first.";

/** Tool calls as OpenAI streams them: id and name first, then the arguments in small fragments. */
function toolCalls(calls: { name: string; input: unknown }[], thinking = ""): string[] {
  const out = [chatChunk({ role: "assistant", content: null })];
  // Reasoning as DeepSeek, llama.cpp and Azure AI Foundry stream it.
  for (const word of thinking.split(/(?<= )/).filter(Boolean)) out.push(chatChunk({ reasoning_content: word } as ReasoningDelta));
  for (const [index, call] of calls.entries()) {
    out.push(chatChunk({ tool_calls: [{ index, id: `call_${index}${call.name}`, type: "function", function: { name: call.name, arguments: "" } }] }));
    const args = JSON.stringify(call.input);
    for (let i = 0; i < args.length; i += 7) out.push(chatChunk({ tool_calls: [{ index, function: { arguments: args.slice(i, i + 7) } }] }));
  }
  return openAiSse([...out, chatChunk({}, "tool_calls"), usage]);
}

function text(words: string): string[] {
  const out = [chatChunk({ role: "assistant", content: "" })];
  for (const word of words.split(/(?<= )/)) out.push(chatChunk({ content: word }));
  return openAiSse([...out, chatChunk({}, "stop"), usage]);
}

/** The conversation, decided by what the upstream has seen so far (the CLI may add side calls). */
function answer(body: ChatCompletionCreateParams): string[] {
  if (!body.tools || body.tools.length === 0) return text("ok");
  const results = body.messages.filter((m): m is ChatCompletionToolMessageParam => m.role === "tool");
  const file = join(repo, "hello.txt");
  if (results.length === 0) {
    return toolCalls(
      [
        { name: "Bash", input: { command: "ls", description: "List files" } },
        { name: "Read", input: { file_path: file } },
      ],
      reasoning,
    );
  }
  if (results.length === 2) return toolCalls([{ name: "Edit", input: { file_path: file, old_string: "world", new_string: "lynkr" } }]);
  return text(finalText);
}

beforeAll(() => {
  upstream = startFakeUpstream((req) => {
    const chunks = answer(req.json as ChatCompletionCreateParams);
    return new Response(chunks.join(""), { headers: { "content-type": "text/event-stream" } });
  });
});

afterAll(() => upstream.stop());

/** Each provider's configuration, pointed at the fake upstream; with the path it must call. */
const providers: Record<string, { env: () => Record<string, string>; path: string }> = {
  openai: { env: () => ({ OPENAI_API_KEY: "sk-e2e", OPENAI_ENDPOINT: `${upstream.url}/v1/chat/completions` }), path: "/v1/chat/completions" },
  "azure-openai": {
    env: () => ({ AZURE_OPENAI_ENDPOINT: upstream.url, AZURE_OPENAI_API_KEY: "az", AZURE_OPENAI_DEPLOYMENT: "gpt-4o" }),
    path: "/openai/deployments/gpt-4o/chat/completions",
  },
  openrouter: { env: () => ({ OPENROUTER_API_KEY: "or", OPENROUTER_ENDPOINT: `${upstream.url}/api/v1/chat/completions` }), path: "/api/v1/chat/completions" },
  databricks: {
    env: () => ({ DATABRICKS_API_BASE: upstream.url, DATABRICKS_API_KEY: "dapi" }),
    path: "/serving-endpoints/databricks-claude-sonnet-4-5/invocations",
  },
  llamacpp: { env: () => ({ LLAMACPP_ENDPOINT: upstream.url }), path: "/v1/chat/completions" },
};

for (const [provider, setup] of Object.entries(providers)) {
  test(`Claude Code via ${provider}: parallel Bash + Read, then Edit; the file changes and the answer arrives`, async () => {
    repo = await tempGitRepo({ "hello.txt": "Hello, world\n", "README.md": "# demo\n" });
    const gateway = startTestGateway({ MODEL_PROVIDER: provider, ...setup.env() });
    const seen = upstream.received.length;
    const run = await runClaudeCode({
      baseUrl: gateway.url,
      prompt: "Change the greeting in hello.txt to greet lynkr.",
      cwd: repo,
      allowedTools: ["Bash", "Read", "Edit", "Write"],
    }).finally(() => gateway.shutdown());
    if (run.code !== 0) console.error(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    expect(run.json?.is_error).toBe(false);
    expect(run.json?.result).toBe(finalText);
    expect(readFileSync(join(repo, "hello.txt"), "utf8")).toBe("Hello, lynkr\n");

    const received = upstream.received.slice(seen);
    expect(received.every((r) => r.url.pathname === setup.path)).toBe(true);
    const bodies = received.map((r) => r.json as ChatCompletionCreateParams).filter((b) => b.tools && b.tools.length > 0);
    expect(bodies.length).toBe(3);
    const [first, second, third] = bodies;
    if (!first || !second || !third) throw new Error("missing turns");
    // The tools Claude Code sent, under their own names, on every turn; no billing header.
    const names = first.tools?.map((t) => (t.type === "function" ? t.function.name : ""));
    expect(names).toEqual(expect.arrayContaining(["Bash", "Read", "Edit", "Write"]));
    expect(JSON.stringify(second.tools)).toBe(JSON.stringify(first.tools));
    expect(JSON.stringify(first.messages)).not.toContain("x-anthropic-billing-header");
    // Both parallel calls, then both results as tool messages (in the order the CLI finished
    // them), each answering its call's id with what the tool really did.
    const assistant = second.messages.find((m) => m.role === "assistant");
    const calls = assistant && "tool_calls" in assistant ? (assistant.tool_calls ?? []) : [];
    expect(calls.map((c) => (c.type === "function" ? c.function.name : ""))).toEqual(["Bash", "Read"]);
    expect(calls.every((c) => c.id.startsWith("toolu_01"))).toBe(true);
    const results = second.messages.filter((m): m is ChatCompletionToolMessageParam => m.role === "tool");
    const resultFor = (i: number) => String(results.find((r) => r.tool_call_id === calls[i]?.id)?.content);
    expect(results.length).toBe(2);
    expect(resultFor(0)).toContain("hello.txt");
    expect(resultFor(1)).toContain("Hello, world");
    // The thinking Claude Code showed and sent back (signed by lynkr) is not replayed upstream.
    expect(JSON.stringify(second.messages)).not.toContain("look at the files first");
    // Each turn's history is a prefix of the next one's.
    for (const [i, message] of second.messages.entries()) expect(JSON.stringify(third.messages[i])).toBe(JSON.stringify(message));
  }, 120_000);
}
