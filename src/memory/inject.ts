import type { Message, MessagesRequest } from "../anthropic/schema.ts";
import { logger } from "../observability/logger.ts";
import type { MemoryService } from "./service.ts";

// The memory step of a /v1/messages turn, in two calls: `injectMemory` before the request goes
// anywhere, `onTurnFinished` once the answer went out. The block goes after all of the client's
// system blocks — the one place that leaves the client's own prefix (system prompt, its cache
// breakpoints) untouched — and is the same bytes on every request of the session.

export interface MemoryTurn {
  /** The client's session; none, no memory (nothing to keep the block stable across requests). */
  sessionId: string | undefined;
  /** The caller (key name, else address): the default scope when no project is stated. */
  client: string;
  headers: Headers;
}

export interface ClientRequest {
  request: MessagesRequest;
  /** The body as the client sent it; dropped when the request changes (it must be re-serialized). */
  clientBody: string | undefined;
}

function optedOut(headers: Headers): boolean {
  return headers.get("x-lynkr-memory")?.trim().toLowerCase() === "off";
}

/** Appends the session's memory block after the client's system blocks (a string system becomes a block). */
export function withBlock(request: MessagesRequest, block: string): MessagesRequest {
  const memory = { type: "text" as const, text: block };
  const system = request.system === undefined ? [] : typeof request.system === "string" ? [{ type: "text" as const, text: request.system }] : request.system;
  return { ...request, system: [...system, memory] };
}

/** Whether this request gets a memory block at all (no store is read when not). */
export function wantsMemory(memory: MemoryService | undefined, turn: MemoryTurn): memory is MemoryService {
  return memory !== undefined && turn.sessionId !== undefined && !optedOut(turn.headers);
}

export async function injectMemory(memory: MemoryService | undefined, input: ClientRequest, turn: MemoryTurn): Promise<ClientRequest> {
  if (!wantsMemory(memory, turn) || turn.sessionId === undefined) return input;
  let block: string;
  try {
    block = await memory.blockFor(turn.sessionId, input.request, turn.client);
  } catch (error) {
    // Memory is an extra: a database problem must not cost the user their turn.
    logger.error("could not read memories", { error: String(error) });
    return input;
  }
  if (block === "") return input;
  return { request: withBlock(input.request, block), clientBody: undefined };
}

/**
 * Only the user's own conversation teaches: a subagent's prompt is written by the model, and
 * Claude Code's tool-less side calls (WebFetch, compaction) carry its instructions as user text.
 */
export function fromTheUser(request: Pick<MessagesRequest, "tools">, headers: Headers): boolean {
  if (headers.has("x-claude-code-agent-id")) return false;
  return !headers.has("x-claude-code-session-id") || (request.tools?.length ?? 0) > 0;
}

/** Learns from the finished turn, off the response path. `request` is the client's, without the block. */
export function onTurnFinished(memory: MemoryService | undefined, request: MessagesRequest, response: Message | undefined, turn: MemoryTurn): void {
  if (!memory || !response || optedOut(turn.headers) || !fromTheUser(request, turn.headers)) return;
  setImmediate(() => {
    memory.learnFrom(request, turn.client).catch((error: unknown) => logger.error("could not learn from turn", { error: String(error) }));
  });
}
