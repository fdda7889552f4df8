import { randomBytes } from "node:crypto";
import { MessageAccumulator } from "../anthropic/accumulate.ts";
import { ApiError } from "../anthropic/errors.ts";
import type { ContentBlockParam, MessageParam, MessagesRequest, ResponseContentBlock, StopReason, StreamEvent, Usage } from "../anthropic/schema.ts";
import { decodeSnippet, lynkrIdMark } from "./history.ts";
import type { LoopPolicy } from "./services.ts";
import type { LynkrTool, RequestTools, ToolRun } from "./toolset.ts";

// The server-tool loop: one client request, several model calls. Each model call's events go
// to the client as they come (blocks renumbered into one message); a call of a tool lynkr runs
// becomes a server_tool_use / mcp_tool_use block, lynkr runs it, streams the result block, and
// calls the model again with the result, until the model answers, calls a tool the client owns
// (the turn goes back to the client, as without lynkr tools), or a limit stops it (pause_turn,
// as Anthropic's own server-tool loop ends when it reaches its iteration limit).

/** A routed model call's answer: its first event (the call succeeded) and the rest. */
export interface ModelStream {
  first: StreamEvent;
  events: AsyncIterator<StreamEvent>;
}

type CallModel = (request: MessagesRequest) => Promise<ModelStream>;

export interface LoopOptions {
  policy: LoopPolicy;
  signal: AbortSignal;
  /** Counts one tool run. */
  onToolCall?: (tool: string, outcome: "ok" | "error" | "refused") => void;
}

interface PendingCall {
  id: string;
  tool: LynkrTool;
  input: Record<string, unknown>;
  /** The model's input was not a JSON object. */
  badInput: boolean;
}

const usageKeys = ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] as const;

function serverToolId(tool: LynkrTool): string {
  // Marked as lynkr's: an Anthropic upstream later in the conversation must not be sent them as its own.
  return `${tool.usageKey ? "srvtoolu" : "mcptoolu"}_${lynkrIdMark}${randomBytes(12).toString("hex")}`;
}

/** The three events that stream a whole block whose input is known: start, input as JSON, stop. */
function* blockEvents(index: number, block: ResponseContentBlock): Generator<StreamEvent> {
  if ("input" in block) {
    const { input, ...start } = block;
    yield { type: "content_block_start", index, content_block: { ...start, input: {} } };
    yield { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(input) } };
  } else {
    yield { type: "content_block_start", index, content_block: block };
  }
  yield { type: "content_block_stop", index };
}

function withTimeout(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}

/** Search results so far, to cite from the answer's text. */
interface Source {
  url: string;
  title: string | null;
  snippet: string;
}

function citationsFor(text: string, sources: Source[]): Record<string, unknown>[] {
  const cited: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    const bare = source.url.replace(/\/+$/, "");
    if (seen.has(bare) || !text.includes(bare)) continue;
    seen.add(bare);
    cited.push({
      type: "web_search_result_location",
      url: source.url,
      title: source.title,
      cited_text: source.snippet.slice(0, 150),
      encrypted_index: Buffer.from(source.url).toString("base64"),
    });
  }
  return cited;
}

async function* serverToolLoop(request: MessagesRequest, tools: RequestTools, callModel: CallModel, options: LoopOptions): AsyncGenerator<StreamEvent> {
  const { policy, signal } = options;
  const started = performance.now();
  // The turn as the client sees it; each model call gets the conversation plus this turn so far.
  const turn: ResponseContentBlock[] = [];
  const usage: Record<string, number> = {};
  const serverUsage = { web_search_requests: 0, web_fetch_requests: 0 };
  const sources: Source[] = [];
  let nextIndex = 0;
  let toolCalls = 0;
  const uses = new Map<string, number>();
  let announced = false;

  const finish = (stopReason: StopReason | null, stopSequence: string | null = null): StreamEvent[] => {
    const total: Usage = { ...usage, server_tool_use: serverUsage };
    return [
      { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: total },
      { type: "message_stop" },
    ];
  };

  try {
    for (let step = 1; ; step++) {
      const messages: MessageParam[] = turn.length > 0 ? [...request.messages, { role: "assistant", content: turn as ContentBlockParam[] }] : request.messages;
      const answer = await callModel(tools.upstreamRequest(messages, turn.length > 0));
      const acc = new MessageAccumulator();
      /** Upstream block index → client index; undefined for calls of lynkr's tools (held back). */
      const indexOf = new Map<number, number | undefined>();
      const texts = new Map<number, string>();
      const pending: PendingCall[] = [];
      let clientToolCalled = false;

      const events: AsyncIterator<StreamEvent> = answer.events;
      let next: IteratorResult<StreamEvent> = { done: false, value: answer.first };
      for (; !next.done; next = await events.next()) {
        const event = next.value;
        acc.push(event);
        switch (event.type) {
          case "message_start":
            // One message for the client: the first model call's start.
            if (!announced) {
              announced = true;
              yield event;
            }
            break;
          case "content_block_start": {
            const block = event.content_block;
            const owned = block.type === "tool_use" && tools.tools.has(String(block.name));
            if (owned) {
              indexOf.set(event.index, undefined);
              break;
            }
            if (block.type === "tool_use") clientToolCalled = true;
            const index = nextIndex++;
            indexOf.set(event.index, index);
            yield { ...event, index };
            break;
          }
          case "content_block_delta": {
            const index = indexOf.get(event.index);
            if (index === undefined) break;
            if (event.delta.type === "text_delta") texts.set(event.index, (texts.get(event.index) ?? "") + String(event.delta.text));
            yield { ...event, index };
            break;
          }
          case "content_block_stop": {
            const index = indexOf.get(event.index);
            if (index === undefined && indexOf.has(event.index)) {
              // A call of a lynkr tool, complete: shown to the client as the server tool's own block.
              const block = acc.block(event.index);
              const tool = tools.tools.get(String(block?.name));
              if (!block || !tool) break;
              const input = block.input;
              const isObject = typeof input === "object" && input !== null && !Array.isArray(input);
              const call: PendingCall = { id: serverToolId(tool), tool, input: isObject ? (input as Record<string, unknown>) : {}, badInput: !isObject };
              pending.push(call);
              const use = tool.useBlock(call.id, call.input);
              turn.push(use);
              yield* blockEvents(nextIndex++, use);
              break;
            }
            if (index === undefined) break;
            const text = texts.get(event.index);
            // Text after a search cites the results it names by URL, as Anthropic's answers do.
            const citations = text && sources.length > 0 ? citationsFor(text, sources) : [];
            for (const citation of citations) yield { type: "content_block_delta", index, delta: { type: "citations_delta", citation } };
            yield { ...event, index };
            const block = acc.block(event.index);
            if (block) turn.push(citations.length > 0 ? { ...block, citations } : block);
            break;
          }
          case "message_delta":
          case "message_stop":
            break;
          default:
            yield event;
        }
      }

      const message = acc.result();
      for (const key of usageKeys) {
        const value = message.usage[key];
        if (typeof value === "number") usage[key] = (usage[key] ?? 0) + value;
      }
      const stopReason = message.stop_reason;

      // Calls lynkr will not run still get a result: the client's history must pair each use.
      const durationLimit = `POLICY_MAX_DURATION_MS=${policy.maxDurationMs}`;
      let limitHit = step >= policy.maxSteps ? `POLICY_MAX_STEPS=${policy.maxSteps}` : performance.now() - started >= policy.maxDurationMs ? durationLimit : undefined;
      let paused = false;
      for (const call of pending) {
        let run: ToolRun;
        let outcome: "ok" | "error" | "refused" = "refused";
        if (!clientToolCalled && stopReason === "max_tokens") {
          run = call.tool.refusal(call.id, "the answer was cut off (max_tokens) before this call could run", "unavailable");
        } else if (call.badInput) {
          run = call.tool.refusal(call.id, "the tool input is not a JSON object", "invalid_tool_input");
        } else if (call.tool.maxUses !== undefined && (uses.get(call.tool.name) ?? 0) >= call.tool.maxUses) {
          run = call.tool.refusal(call.id, `max_uses (${call.tool.maxUses}) reached`, "max_uses_exceeded");
        } else if (limitHit || toolCalls >= policy.maxToolCalls) {
          const reason = limitHit ?? `POLICY_MAX_TOOL_CALLS=${policy.maxToolCalls}`;
          run = call.tool.refusal(call.id, `lynkr did not run this tool: ${reason} reached for this request`, "too_many_requests");
          paused = true;
        } else {
          toolCalls++;
          uses.set(call.tool.name, (uses.get(call.tool.name) ?? 0) + 1);
          if (call.tool.usageKey) serverUsage[call.tool.usageKey]++;
          const ran = await runTool(call, policy, signal, started);
          run = ran.run;
          outcome = run.isError ? "error" : "ok";
          if (ran.deadline) {
            // Out of time: nothing more runs, and the model is not called again.
            limitHit = durationLimit;
            paused = true;
          }
        }
        options.onToolCall?.(call.tool.label, outcome);
        if (run.result.type === "web_search_tool_result" && Array.isArray(run.result.content)) {
          for (const r of run.result.content as { url: string; title: string | null; encrypted_content: string }[]) {
            sources.push({ url: r.url, title: r.title, snippet: decodeSnippet(r.encrypted_content) });
          }
        }
        turn.push(run.result);
        yield* blockEvents(nextIndex++, run.result);
      }

      if (pending.length === 0) {
        yield* finish(stopReason, message.stop_sequence);
        return;
      }
      if (clientToolCalled) {
        yield* finish("tool_use");
        return;
      }
      if (stopReason === "max_tokens") {
        yield* finish("max_tokens");
        return;
      }
      if (paused) {
        yield* finish("pause_turn");
        return;
      }
    }
  } finally {
    await tools.close();
  }
}

/** Runs one call within the per-tool timeout and the loop's time left; `deadline`: the loop's time ran out. */
async function runTool(call: PendingCall, policy: LoopPolicy, signal: AbortSignal, loopStarted: number): Promise<{ run: ToolRun; deadline: boolean }> {
  const remaining = Math.max(1, Math.round(policy.maxDurationMs - (performance.now() - loopStarted)));
  const cutByDeadline = remaining <= policy.toolTimeoutMs;
  const timeoutMs = Math.min(policy.toolTimeoutMs, remaining);
  try {
    return { run: await call.tool.run(call.id, call.input, withTimeout(signal, timeoutMs)), deadline: false };
  } catch (error) {
    if (signal.aborted) throw error;
    // AbortSignal.timeout's reason, or the MCP SDK's own RequestTimeout error.
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || /timed? ?out/i.test(error.message));
    const limit = cutByDeadline ? ` (POLICY_MAX_DURATION_MS=${policy.maxDurationMs} reached)` : "";
    const reason = timedOut ? `the tool did not answer within ${timeoutMs} ms${limit}` : `the tool failed: ${error instanceof Error ? error.message : String(error)}`;
    return { run: call.tool.refusal(call.id, reason, "unavailable"), deadline: timedOut && cutByDeadline };
  }
}

/** Every provider of the route speaks Anthropic's wire, which runs Anthropic's server tools and MCP connector itself. */
export function anthropicWireOnly(kinds: string[]): boolean {
  return kinds.every((kind) => kind === "anthropic" || kind === "azure-anthropic");
}

/**
 * Answers `request` through `call` (one routed model call), running lynkr's tools in between
 * when the request names some of them; otherwise it is exactly `call(request)`. Resolves once the first
 * model call answered, so failures before the first byte still become HTTP errors.
 */
export async function callWithServerTools<A extends ModelStream>(
  request: MessagesRequest,
  tools: RequestTools | undefined,
  call: (request: MessagesRequest) => Promise<A>,
  options: LoopOptions,
): Promise<A> {
  if (!tools) return call(request);
  let firstAnswer: A | undefined;
  const loop = serverToolLoop(request, tools, async (req) => {
    const answer = await call(req);
    firstAnswer ??= answer;
    return answer;
  }, options);
  const first = await loop.next();
  if (first.done || !firstAnswer) throw new ApiError("the model call produced no events");
  return { ...firstAnswer, first: first.value, events: loop };
}
