import { anthropicSse, chunkedResponse, jsonResponse, startFakeUpstream, type FakeUpstream, type ReceivedRequest } from "./fake-upstream.ts";

// A fake Anthropic-wire upstream that plays a scripted conversation: the main loop's Nth turn
// (N = assistant messages already in the request, so a retried request gets the same answer)
// is answered with the Nth scripted turn, streamed exactly as Anthropic streams it. Requests
// that are not the main loop (tool-less side calls, subagents, count_tokens) get a short text
// answer and do not use up a turn.

export type ScriptedBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; name: string; input: Record<string, unknown>; id?: string }
  | { type: "thinking"; thinking: string; signature: string };

export interface ScriptedTurn {
  blocks: ScriptedBlock[];
  /** Defaults to the truth: tool_use when the turn calls a tool, end_turn otherwise. */
  stopReason?: string;
}

export interface ScriptedUpstream extends FakeUpstream {
  /** Main-loop requests, in order (each answered with a scripted turn). */
  mainLoop: ReceivedRequest[];
  /** Everything else (side calls, count_tokens, models). */
  other: ReceivedRequest[];
}

type Event = { type: string; [k: string]: unknown };

/** Every answer needs its own id: Claude Code merges assistant messages that share one. */
function messageId(): string {
  return `msg_01${crypto.randomUUID().replaceAll("-", "").slice(0, 22)}`;
}

function stopOf(turn: ScriptedTurn): string {
  return turn.stopReason ?? (turn.blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
}

/** The events of one assistant message with the given blocks, as Anthropic's API streams them. */
export function turnEvents(turn: ScriptedTurn, model: string, id = messageId()): Event[] {
  const events: Event[] = [
    {
      type: "message_start",
      message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } },
    },
  ];
  for (const [index, block] of turn.blocks.entries()) {
    if (block.type === "text") {
      events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const piece of block.text.split(/(?<= )/)) events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text: piece } });
    } else if (block.type === "thinking") {
      events.push({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } });
      events.push({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: block.thinking } });
      events.push({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: block.signature } });
    } else {
      const toolId = block.id ?? `toolu_01${index}${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
      events.push({ type: "content_block_start", index, content_block: { type: "tool_use", id: toolId, name: block.name, input: {} } });
      // Input arrives as JSON fragments (Claude Code ignores content_block_start.input).
      const json = JSON.stringify(block.input);
      events.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: "" } });
      for (let i = 0; i < json.length; i += 16) events.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: json.slice(i, i + 16) } });
    }
    events.push({ type: "content_block_stop", index });
  }
  events.push({ type: "message_delta", delta: { stop_reason: stopOf(turn), stop_sequence: null }, usage: { output_tokens: 20 } });
  events.push({ type: "message_stop" });
  return events;
}

/** The same answer as one non-streaming Message. */
export function turnMessage(turn: ScriptedTurn, model: string, id = messageId()): Record<string, unknown> {
  const content = turn.blocks.map((b, i) =>
    b.type === "tool_use" ? { type: "tool_use", id: b.id ?? `toolu_01${i}scripted`, name: b.name, input: b.input } : b,
  );
  return { id, type: "message", role: "assistant", model, content, stop_reason: stopOf(turn), stop_sequence: null, usage: { input_tokens: 100, output_tokens: 20 } };
}

interface BodyShape {
  model?: unknown;
  stream?: unknown;
  tools?: unknown;
  messages?: unknown;
}

/**
 * Claude Code's main loop: a request that sends its tools, other than count_tokens and a
 * subagent's (on any wire: the path is not looked at, so an OpenAI-compatible upstream may ask too).
 */
export function isMainLoop(req: ReceivedRequest): boolean {
  const body = req.json as BodyShape | undefined;
  return (
    req.method === "POST" &&
    !req.url.pathname.endsWith("/count_tokens") &&
    Array.isArray(body?.tools) &&
    body.tools.length > 0 &&
    !req.headers.has("x-claude-code-agent-id")
  );
}

function assistantTurns(body: BodyShape): number {
  return Array.isArray(body.messages) ? body.messages.filter((m: { role?: unknown }) => m?.role === "assistant").length : 0;
}

function answer(req: ReceivedRequest, turn: ScriptedTurn): Response {
  const body = req.json as BodyShape;
  const model = typeof body.model === "string" ? body.model : "claude-scripted";
  if (body.stream === true) return chunkedResponse(anthropicSse(turnEvents(turn, model)), { headers: { "request-id": "req_scripted" } });
  return jsonResponse(turnMessage(turn, model));
}

export function startScriptedAnthropic(turns: ScriptedTurn[], sideAnswer = "ok"): ScriptedUpstream {
  const mainLoop: ReceivedRequest[] = [];
  const other: ReceivedRequest[] = [];
  const upstream = startFakeUpstream((req) => {
    if (!isMainLoop(req)) {
      other.push(req);
      if (req.url.pathname.endsWith("/count_tokens")) return jsonResponse({ input_tokens: 42 });
      if (req.method !== "POST") return jsonResponse({ type: "error", error: { type: "not_found_error", message: "not found" } }, 404);
      return answer(req, { blocks: [{ type: "text", text: sideAnswer }] });
    }
    mainLoop.push(req);
    const n = assistantTurns(req.json as BodyShape);
    const turn = turns[n];
    if (!turn) {
      return jsonResponse({ type: "error", error: { type: "invalid_request_error", message: `script has no turn ${n + 1} (it has ${turns.length})` } }, 400);
    }
    return answer(req, turn);
  });
  return { ...upstream, mainLoop, other };
}
