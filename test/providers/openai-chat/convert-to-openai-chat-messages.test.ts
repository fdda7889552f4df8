import { expect, test } from "bun:test";
import { convertToOpenAiChatMessages, type MessageConversion } from "../../../src/providers/openai-chat/convert-to-openai-chat-messages.ts";
import { CapabilityTable } from "../../../src/providers/models/capabilities.ts";
import { freshRequest, sessionRequest } from "../recorded.ts";

// Claude Code's recorded requests → Chat Completions messages.

const caps = new CapabilityTable({}).for("gpt-4o");
const options: MessageConversion = { provider: "openai", model: "gpt-4o", capabilities: caps, cacheMarks: false, midSystem: "keep" };

test("the fresh request: billing block dropped, system blocks joined, the role:system message kept in place", async () => {
  const request = await freshRequest();
  const out = convertToOpenAiChatMessages(request, options);
  expect(out.map((m) => m.role)).toEqual(["system", "user", "system"]);
  const system = out[0]?.content;
  expect(typeof system).toBe("string");
  expect(String(system)).not.toContain("x-anthropic-billing-header");
  expect(String(system)).toStartWith("You are a Claude agent, built on Anthropic's Claude Agent SDK.");
  // Three text blocks of the first user message, as one string (no media, no breakpoints).
  expect(typeof out[1]?.content).toBe("string");
});

test("merged mid-conversation system messages join the user turn before them (llama.cpp's templates)", async () => {
  const request = await freshRequest();
  const out = convertToOpenAiChatMessages(request, { ...options, midSystem: "merge" });
  expect(out.map((m) => m.role)).toEqual(["system", "user"]);
  expect(String(out[1]?.content)).toContain("# Environment");
});

test("cache breakpoints go on only where the flavor hands them on", async () => {
  const request = await freshRequest();
  const plain = JSON.stringify(convertToOpenAiChatMessages(request, options));
  expect(plain).not.toContain("cache_control");
  const marked = convertToOpenAiChatMessages(request, { ...options, cacheMarks: true });
  expect(JSON.stringify(marked[0]?.content)).toStartWith('[{"type":"text","text":"You are a Claude agent');
  expect(JSON.stringify(marked[0]?.content)).toEndWith('"cache_control":{"type":"ephemeral"}}]');
});

test("the session: tool calls and results pair up by id, in order, parallel calls in one assistant turn", async () => {
  const request = await sessionRequest();
  const out = convertToOpenAiChatMessages(request, options);
  const calls = out.flatMap((m) => (m.role === "assistant" ? (m.tool_calls ?? []) : []));
  const results = out.flatMap((m) => (m.role === "tool" ? [m.tool_call_id] : []));
  expect(calls.map((c) => c.id)).toEqual(results);
  expect(calls.map((c) => (c.type === "function" ? c.function.name : ""))).toEqual(["Bash", "Read", "Read", "Edit", "Edit", "Bash", "Write"]);
  const parallel = out.find((m) => m.role === "assistant" && m.tool_calls?.length === 2);
  expect(parallel).toBeDefined();
  // Thinking is dropped for a model that does not take it back; signed thinking never leaks as text.
  expect(JSON.stringify(out)).not.toContain("reasoning_content");
});

test("thinking goes back on every assistant turn to a model that takes reasoning history", async () => {
  const request = await sessionRequest();
  const out = convertToOpenAiChatMessages(request, { ...options, capabilities: { ...caps, reasoning_history: true } });
  const turns = out.filter((m) => m.role === "assistant");
  expect(turns.every((m) => "reasoning_content" in m)).toBe(true);
  expect(turns.some((m) => "reasoning_content" in m && typeof m.reasoning_content === "string" && m.reasoning_content.length > 0)).toBe(true);
});

test("each message converts on its own: turn N's messages are a prefix of turn N+1's", async () => {
  const before = await freshRequest();
  const after = { ...before, messages: [...before.messages, { role: "assistant" as const, content: [{ type: "text" as const, text: "ok" }] }] };
  const a = JSON.stringify(convertToOpenAiChatMessages(before, options));
  const b = JSON.stringify(convertToOpenAiChatMessages(after, options));
  expect(b.startsWith(a.slice(0, -1))).toBe(true);
});

test("a tool result's tool_reference becomes text; its images follow in the user turn", () => {
  const out = convertToOpenAiChatMessages(
    {
      model: "m",
      max_tokens: 1,
      messages: [
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: [{ type: "tool_reference", tool_name: "WebFetch" }] },
            { type: "tool_result", tool_use_id: "t2", is_error: true, content: [{ type: "text", text: "bad" }, { type: "image", source: { type: "url", url: "https://x/y.png" } }] },
            { type: "text", text: "Tool loaded." },
          ],
        },
      ],
    },
    options,
  );
  expect(out).toEqual([
    { role: "tool", tool_call_id: "t1", content: "[tool loaded: WebFetch]" },
    { role: "tool", tool_call_id: "t2", content: "Error: bad" },
    { role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }, { type: "text", text: "Tool loaded." }] },
  ]);
});
