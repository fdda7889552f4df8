import { expect, test } from "bun:test";
import { MessageAccumulator } from "../../src/anthropic/accumulate.ts";
import type { MessagesRequest, StreamEvent } from "../../src/anthropic/schema.ts";
import { callWithServerTools, type ModelStream } from "../../src/agent/loop.ts";
import type { LoopPolicy } from "../../src/agent/services.ts";
import type { LynkrTool, RequestTools } from "../../src/agent/toolset.ts";

// The loop on its own, with a scripted model: block numbering across model calls, mixed client
// and lynkr tool calls, the limits, and what each model call is given.

type Step = ({ text: string } | { tool: string; input: unknown })[];

function modelStream(step: Step, stop: string): ModelStream {
  const events: StreamEvent[] = [
    { type: "message_start", message: { id: "msg_x", type: "message", role: "assistant", model: "m", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 0 } } },
  ];
  step.forEach((block, index) => {
    if ("text" in block) {
      events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
      events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } });
    } else {
      events.push({ type: "content_block_start", index, content_block: { type: "tool_use", id: `toolu_${index}`, name: block.tool, input: {} } });
      events.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } });
    }
    events.push({ type: "content_block_stop", index });
  });
  events.push({ type: "message_delta", delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 3 } });
  events.push({ type: "message_stop" });
  const [first, ...rest] = events;
  return { first: first as StreamEvent, events: rest[Symbol.iterator]() as unknown as AsyncIterator<StreamEvent> };
}

function fakeTool(name: string, run: (input: Record<string, unknown>, signal: AbortSignal) => Promise<string>): LynkrTool {
  const result = (id: string, text: string, isError: boolean) => ({ result: { type: "mcp_tool_result", tool_use_id: id, is_error: isError, content: [{ type: "text", text }] }, isError });
  return {
    name,
    label: name,
    definition: { name, input_schema: { type: "object" } },
    useBlock: (id, input) => ({ type: "mcp_tool_use", id, name, server_name: "fake", input }),
    run: async (id, input, signal) => result(id, await run(input, signal), false),
    refusal: (id, reason) => result(id, reason, true),
  };
}

function toolset(tools: LynkrTool[], seen: MessagesRequest[]): RequestTools {
  return {
    tools: new Map(tools.map((t) => [t.name, t])),
    upstreamRequest: (messages, continuing) => {
      const req: MessagesRequest = { model: "m", max_tokens: 10, messages, tool_choice: continuing ? { type: "auto" } : { type: "any" } };
      seen.push(req);
      return req;
    },
    close: async () => undefined,
  };
}

const policy: LoopPolicy = { maxSteps: 5, maxToolCalls: 10, toolTimeoutMs: 5_000, maxDurationMs: 60_000, disallowed: [] };
const request: MessagesRequest = { model: "m", max_tokens: 10, messages: [{ role: "user", content: "go" }] };

async function run(script: [Step, string][], tools: LynkrTool[], limits: Partial<LoopPolicy> = {}) {
  const seen: MessagesRequest[] = [];
  let i = 0;
  const answer = await callWithServerTools(request, toolset(tools, seen), async () => {
    const [step, stop] = script[Math.min(i++, script.length - 1)] as [Step, string];
    return modelStream(step, stop);
  }, { policy: { ...policy, ...limits }, signal: new AbortController().signal });
  const events: StreamEvent[] = [answer.first];
  for (let next = await answer.events.next(); !next.done; next = await answer.events.next()) events.push(next.value);
  const acc = new MessageAccumulator();
  for (const e of events) acc.push(e);
  return { events, message: acc.result(), seen, calls: i };
}

const echo = fakeTool("mcp__fake__echo", async (input) => `echo ${String(input.text)}`);

test("a lynkr tool and a client tool in one step: lynkr runs its own, the turn goes back to the client with tool_use", async () => {
  const { events, message, calls } = await run([[[{ text: "Both." }, { tool: "mcp__fake__echo", input: { text: "x" } }, { tool: "Bash", input: { command: "ls" } }], "tool_use"]], [echo]);
  expect(calls).toBe(1);
  expect(message.content.map((b) => b.type)).toEqual(["text", "mcp_tool_use", "tool_use", "mcp_tool_result"]);
  expect(message.stop_reason).toBe("tool_use");
  expect(JSON.stringify(message.content[3])).toContain("echo x");
  // One message_start, blocks numbered 0..3 in order, each opened and closed once.
  expect(events.filter((e) => e.type === "message_start")).toHaveLength(1);
  const starts = events.filter((e) => e.type === "content_block_start").map((e) => (e.type === "content_block_start" ? e.index : -1));
  const stops = events.filter((e) => e.type === "content_block_stop").map((e) => (e.type === "content_block_stop" ? e.index : -1));
  expect(starts).toEqual([0, 1, 2, 3]);
  expect(stops).toEqual([0, 1, 2, 3]);
});

test("the loop goes on after lynkr's tools, sums usage, and relaxes a forced tool_choice after the first call", async () => {
  const { message, seen } = await run(
    [
      [[{ tool: "mcp__fake__echo", input: { text: "1" } }], "tool_use"],
      [[{ text: "done" }], "end_turn"],
    ],
    [echo],
  );
  expect(message.content.map((b) => b.type)).toEqual(["mcp_tool_use", "mcp_tool_result", "text"]);
  expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 6 });
  expect(seen[0]?.tool_choice?.type).toBe("any");
  expect(seen[1]?.tool_choice?.type).toBe("auto");
  // The second call sees the turn so far as the assistant's.
  expect(seen[1]?.messages.at(-1)?.role).toBe("assistant");
});

test("POLICY_MAX_TOOL_CALLS: calls past the limit get an error result and the turn pauses", async () => {
  const { message, calls } = await run([[[{ tool: "mcp__fake__echo", input: { text: "a" } }, { tool: "mcp__fake__echo", input: { text: "b" } }], "tool_use"]], [echo], { maxToolCalls: 1 });
  expect(calls).toBe(1);
  expect(message.stop_reason).toBe("pause_turn");
  const results = message.content.filter((b) => b.type === "mcp_tool_result");
  expect(JSON.stringify(results[0])).toContain("echo a");
  expect(JSON.stringify(results[1])).toContain("POLICY_MAX_TOOL_CALLS=1");
});

test("POLICY_MAX_DURATION_MS: a slow tool is cut at the time left, and no further tool runs", async () => {
  const slow = fakeTool("mcp__fake__slow", (_input, signal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })));
  const { message, calls } = await run([[[{ tool: "mcp__fake__slow", input: {} }, { tool: "mcp__fake__slow", input: {} }], "tool_use"]], [slow], { maxDurationMs: 1_000 });
  expect(calls).toBe(1);
  expect(message.stop_reason).toBe("pause_turn");
  const results = message.content.filter((b) => b.type === "mcp_tool_result");
  expect(JSON.stringify(results[0])).toContain("did not answer within");
  expect(JSON.stringify(results[0])).toContain("POLICY_MAX_DURATION_MS=1000 reached");
  expect(JSON.stringify(results[1])).toContain("lynkr did not run this tool: POLICY_MAX_DURATION_MS=1000");
});

test("input that is not an object is refused without running the tool", async () => {
  let ran = false;
  const watched = fakeTool("mcp__fake__watched", async () => {
    ran = true;
    return "ran";
  });
  const { message } = await run([[[{ tool: "mcp__fake__watched", input: [1, 2] }], "tool_use"], [[{ text: "ok" }], "end_turn"]], [watched]);
  expect(ran).toBe(false);
  expect(JSON.stringify(message.content[1])).toContain("not a JSON object");
});
