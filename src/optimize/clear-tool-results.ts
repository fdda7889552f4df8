import type { ContentBlockParam, MessageParam, MessagesRequest } from "../anthropic/schema.ts";

// Old tool results, cleared the way Anthropic's clear_tool_uses context edit does it, with
// hysteresis: nothing happens until the prompt passes a high-water mark (the trigger); then the
// oldest tool results are replaced by a short placeholder, in one step, until the prompt is back
// under a low-water mark (the target). Until the next time the trigger is passed the same results
// stay cleared, so every later request only appends to the one before it: the prefix changes once
// per edit, and an edit that clears down to the low-water mark buys several turns before the next.
// Blocks are never removed (each tool_use keeps its tool_result), and the results of the latest
// user message, and the latest `keep`, are never touched.

export const clearedPlaceholder = "[Old tool result cleared to fit the context window. Run the tool again if it is needed.]";

/** Results shorter than this cost little and are left alone. */
const minClearedChars = 400;

export interface ClearingOptions {
  /** Prompt tokens past which an edit fires (the high-water mark). */
  trigger: number;
  /** Prompt tokens an edit clears down to, oldest results first (the low-water mark). */
  target: number;
  /** Latest tool results never cleared. */
  keep: number;
  /** An edit fires only if it frees at least this many tokens (so it cannot fire on every turn). */
  clearAtLeast: number;
  countRequest(request: MessagesRequest): number;
  countText(text: string): number;
}

export interface Clearing {
  request: MessagesRequest;
  /** Tool results cleared in this request. */
  cleared: number;
  /** Whether an edit fired on this request (the prefix changed here). */
  fired: boolean;
  /** The last cleared result's tool_use_id, to remember for the next request. */
  through: string | undefined;
}

interface Place {
  message: number;
  block: number;
  id: string;
  chars: number;
  text: string;
  /** In the latest user message: never cleared. */
  latest: boolean;
}

function resultText(block: ContentBlockParam): string {
  const content = block.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part.type === "text" && typeof part.text === "string" ? part.text : "")).join("\n");
}

/** Every tool result, in order; those of the latest user message are marked, never to be cleared. */
function places(messages: MessageParam[]): Place[] {
  const out: Place[] = [];
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") {
      lastUser = i;
      break;
    }
  }
  for (const [m, message] of messages.entries()) {
    if (typeof message.content === "string") continue;
    for (const [b, block] of message.content.entries()) {
      if (block.type !== "tool_result") continue;
      const text = resultText(block);
      out.push({ message: m, block: b, id: String(block.tool_use_id), chars: text.length, text, latest: m === lastUser });
    }
  }
  return out;
}

function cleared(request: MessagesRequest, targets: Place[]): MessagesRequest {
  if (targets.length === 0) return request;
  const byMessage = new Map<number, Set<number>>();
  for (const t of targets) byMessage.set(t.message, (byMessage.get(t.message) ?? new Set()).add(t.block));
  const messages = request.messages.map((message, m) => {
    const blocks = byMessage.get(m);
    if (!blocks || typeof message.content === "string") return message;
    return { ...message, content: message.content.map((block, b) => (blocks.has(b) ? { ...block, content: clearedPlaceholder } : block)) };
  });
  return { ...request, messages };
}

/** Results up to and including index `through` that are worth clearing. */
function clearable(all: Place[], through: number): Place[] {
  return all.slice(0, through + 1).filter((p) => p.chars >= minClearedChars && !p.latest);
}

export function clearToolResults(request: MessagesRequest, through: string | undefined, options: ClearingOptions): Clearing {
  const all = places(request.messages);
  // A remembered boundary the conversation no longer has (Claude Code compacted it): start over.
  const boundary = through === undefined ? -1 : all.findIndex((p) => p.id === through);
  const kept = clearable(all, boundary);
  const current = cleared(request, kept);
  const unchanged: Clearing = { request: current, cleared: kept.length, fired: false, through: boundary >= 0 ? through : undefined };
  // The boundary never reaches into the latest user message: its results are not cleared now, and
  // must not be cleared later without an edit either.
  const latest = all.findIndex((p) => p.latest);
  const last = Math.min(all.length - 1 - options.keep, (latest === -1 ? all.length : latest) - 1);
  if (last <= boundary) return unchanged;
  const size = options.countRequest(current);
  if (size <= options.trigger) return unchanged;
  // Oldest first, until the prompt is under the low-water mark (or nothing more may go).
  const candidates = clearable(all, last).slice(kept.length);
  let freed = 0;
  let taken = 0;
  for (const place of candidates) {
    if (size - freed <= options.target) break;
    freed += options.countText(place.text);
    taken++;
  }
  if (taken === 0 || freed < options.clearAtLeast) return unchanged;
  const more = [...kept, ...candidates.slice(0, taken)];
  return { request: cleared(request, more), cleared: more.length, fired: true, through: more.at(-1)?.id };
}
