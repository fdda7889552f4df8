import type { MessagesRequest, StreamEvent } from "../../src/anthropic/schema.ts";
import { RequestFacts } from "../../src/observability/request-facts.ts";
import { newTurn, type Turn, type TurnContext } from "../../src/pipeline/turn.ts";
import type { Answer } from "../../src/routing/call-route.ts";

// Turns for the pipeline's unit tests: what the server would hand the pipeline, without HTTP.

export const request = (extra: Partial<MessagesRequest> = {}): MessagesRequest => ({
  model: "claude-x",
  max_tokens: 16,
  messages: [{ role: "user", content: "hello" }],
  ...extra,
});

export function contextFor(headers: Record<string, string> = {}, signal = new AbortController().signal): TurnContext {
  return {
    signal,
    requestId: "req_test",
    clientHeaders: new Headers(headers),
    search: "",
    client: "ip:127.0.0.1",
    facts: new RequestFacts("req_test", "POST", "/v1/messages", "ip:127.0.0.1"),
    started: performance.now(),
  };
}

export function turnFor(body: MessagesRequest = request(), ctx: TurnContext = contextFor()): Turn {
  const turn = newTurn({ body, text: JSON.stringify(body) }, ctx);
  turn.sessionId = "s-1";
  return turn;
}

/** The events of a short text answer, as a provider yields them. */
export function textEvents(text = "hi", model = "claude-x"): StreamEvent[] {
  return [
    { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 0 } } },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
    { type: "content_block_stop", index: 0 },
    { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } },
    { type: "message_stop" },
  ] as StreamEvent[];
}

/** An upstream answer whose events are `events` (the first already read, as routing hands it over). */
export function answerOf(events: StreamEvent[], options: { failAfter?: Error } = {}): Answer & { returned: () => boolean } {
  const [first, ...rest] = events;
  if (!first) throw new Error("an answer has at least one event");
  let i = 0;
  let returned = false;
  return {
    route: { provider: { name: "anthropic", kind: "anthropic" }, model: undefined, rule: "static", why: "static: MODEL_PROVIDER=anthropic", attempts: 1 },
    upstream: { events: (async function* () {})(), headers: { "anthropic-ratelimit-requests-remaining": "9" } },
    first,
    events: {
      next: async () => {
        const event = rest[i++];
        if (event) return { done: false, value: event };
        if (options.failAfter) throw options.failAfter;
        return { done: true, value: undefined };
      },
      return: async () => {
        returned = true;
        return { done: true, value: undefined };
      },
    },
    returned: () => returned,
  };
}
