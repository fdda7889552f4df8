import type { Database } from "bun:sqlite";
import { sameJson } from "../anthropic/same-json.ts";
import type { Message, MessageParam } from "../anthropic/schema.ts";
import type { WriteBatch } from "./write-batch.ts";

export interface TurnRecord {
  sessionId: string;
  requestId: string;
  provider: string;
  model: string | undefined;
  requestedModel: string;
  stream: boolean;
  status: number;
  latencyMs: number;
  firstByteMs: number | undefined;
  messages: MessageParam[];
  response: Message | undefined;
  error: { type: string; message: string } | undefined;
  /** The routing decision and any fallback on the way (x-lynkr-route). */
  route?: string | undefined;
  /** Providers the request was handed on from before one answered (or all failed). */
  fallbacks?: number;
}

// Claude Code moves its cache_control breakpoint to the newest message on every request, and
// the message carrying it is sent as a block list ([{type:"text",text,cache_control}]) where
// the next request sends the same content as a plain string. History is compared without
// either difference, so a re-sent message is recognised as the one already stored. The marker
// sits on a message's own blocks, so only those are copied without it.
function comparable(message: MessageParam): MessageParam {
  const { content } = message;
  if (!Array.isArray(content)) return message;
  const only = content.length === 1 ? content[0] : undefined;
  if (only?.type === "text" && Object.keys(only).every((k) => k === "type" || k === "text" || k === "cache_control")) {
    return { ...message, content: String(only.text) };
  }
  if (!content.some((block) => "cache_control" in block)) return message;
  return { ...message, content: content.map(({ cache_control: _marker, ...block }) => block) };
}

function messageHash(message: MessageParam): string {
  return Bun.hash(JSON.stringify(comparable(message))).toString(16);
}

/** One hash per message, so a history and all its prefixes are compared after one pass. */
function messageHashes(messages: MessageParam[]): string[] {
  return messages.map(messageHash);
}

interface HashedTurn {
  messages: MessageParam[];
  hashes: string[];
}

/** Threads kept per session: its main loop, subagents, the history after a compaction. */
const threadsPerSession = 8;

/**
 * Per-message hashes of a turn's request. Claude Code re-sends a thread's whole history every
 * turn; hashing it all again cost most of recording a turn. Each thread's previous turn (in this
 * process) is kept with its hashes; the thread a turn continues is the one whose first message
 * equals this turn's, and each message equal to the one that turn had at the same place keeps that
 * message's hash: the same hashes as hashing every message, for the new ones' cost.
 */
export class TurnHasher {
  private readonly last = new Map<string, HashedTurn[]>();

  /** `sessions`: how many sessions' threads are kept (least recently recorded go first); 0 hashes everything. */
  constructor(private readonly sessions = 128) {}

  hashes(turn: Pick<TurnRecord, "sessionId" | "messages">): string[] {
    const { messages, sessionId } = turn;
    const first = messages[0];
    if (first === undefined || this.sessions === 0) return messageHashes(messages);
    const threads = this.last.get(sessionId) ?? [];
    const firstSeen = comparable(first);
    const previous = threads.find((t) => t.messages[0] !== undefined && sameJson(firstSeen, comparable(t.messages[0])));
    const hashes = [previous?.hashes[0] ?? messageHash(first)];
    for (let i = 1; i < messages.length; i++) {
      const message = messages[i] as MessageParam;
      const before = previous?.messages[i];
      hashes.push(before !== undefined && sameJson(comparable(message), comparable(before)) ? (previous?.hashes[i] as string) : messageHash(message));
    }
    const kept = [{ messages, hashes }, ...threads.filter((t) => t !== previous)].slice(0, threadsPerSession);
    this.last.delete(sessionId);
    if (this.last.size >= this.sessions) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    this.last.set(sessionId, kept);
    return hashes;
  }
}

/**
 * What names a conversation across its runs: the hash of its first message (without the moving
 * cache marker). Claude Code re-sends it unchanged on every turn and after `--continue` or
 * `--resume`; a compaction starts a new one (its first message is the summary).
 */
export function conversationRoot(messages: MessageParam[]): string {
  const first = messages[0];
  return first === undefined ? "empty" : (messageHashes([first])[0] as string);
}

function prefixHash(hashes: string[], length: number): string {
  return Bun.hash(hashes.slice(0, length).join(",")).toString(16);
}

/**
 * Most a failed turn stores of its request's new messages and of its partial answer: a failed
 * request (hostile, or a client retrying a huge one) must not cost the disk what it sent. A
 * failed turn whose new messages are larger keeps none and leaves its thread where it was, so
 * the next answered turn stores them.
 */
export const failedTurnMaxBytes = 64 * 1024;

/** What the app needs of session storage: SQLite's SessionStore here, PostgreSQL's in src/store/postgres/. */
export interface SessionRecorder {
  /**
   * Keeps one turn. SQLite: written soon after (batched). PostgreSQL: a Promise that settles once
   * the turn is committed, which the response's end waits for: the client's next turn, on any
   * replica, comes after it.
   */
  record(turn: TurnRecord): void | Promise<unknown>;
}

export interface StoredThread {
  history_len: number;
  history_hash: string;
}

/** The row a turn becomes, and where its thread stands after it. */
export interface TurnWrite {
  offset: number;
  newMessages: string;
  response: string | null;
  /** Undefined: the thread stays where it was (a failed turn too large to keep). */
  thread: { len: number; hash: string } | undefined;
}

/**
 * Only the messages the thread did not already hold are kept: when the stored history is still
 * a prefix of this request's, the turn keeps what follows it.
 */
export function planTurn(turn: TurnRecord, hashes: string[], thread: StoredThread | null | undefined): TurnWrite {
  const messages = turn.messages;
  let offset = 0;
  if (thread && thread.history_len <= messages.length && prefixHash(hashes, thread.history_len) === thread.history_hash) {
    offset = thread.history_len;
  }
  const failed = turn.status !== 200;
  let newMessages = JSON.stringify(messages.slice(offset));
  let response = turn.response ? JSON.stringify(turn.response) : null;
  if (failed && response !== null && response.length > failedTurnMaxBytes) response = null;
  let next: TurnWrite["thread"] = { len: messages.length, hash: prefixHash(hashes, messages.length) };
  if (failed && newMessages.length > failedTurnMaxBytes) {
    newMessages = "[]";
    next = undefined;
  }
  return { offset, newMessages, response, thread: next };
}

/** A turn's row in `turns`, the same columns in SQLite and PostgreSQL (SQLite binds `stream` as 1/0). */
export function turnRow(turn: TurnRecord, plan: TurnWrite, now: number) {
  const usage = turn.response?.usage;
  return {
    session_id: turn.sessionId,
    request_id: turn.requestId,
    created_at: now,
    provider: turn.provider,
    model: turn.model ?? null,
    requested_model: turn.requestedModel,
    stream: turn.stream,
    status: turn.status,
    latency_ms: turn.latencyMs,
    first_byte_ms: turn.firstByteMs ?? null,
    input_tokens: usage?.input_tokens ?? null,
    output_tokens: usage?.output_tokens ?? null,
    cache_read_input_tokens: usage?.cache_read_input_tokens ?? null,
    cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? null,
    stop_reason: turn.response?.stop_reason ?? null,
    new_messages: plan.newMessages,
    history_offset: plan.offset,
    response: plan.response,
    error: turn.error ? JSON.stringify(turn.error) : null,
    route: turn.route ?? null,
    fallbacks: turn.fallbacks ?? 0,
  };
}

// Every column of turnRow, no other (the compiler checks both ways): SQLite binds the row by name.
const turnColumns = Object.keys({
  session_id: true, request_id: true, created_at: true, provider: true, model: true, requested_model: true,
  stream: true, status: true, latency_ms: true, first_byte_ms: true, input_tokens: true, output_tokens: true,
  cache_read_input_tokens: true, cache_creation_input_tokens: true, stop_reason: true, new_messages: true,
  history_offset: true, response: true, error: true, route: true, fallbacks: true,
} satisfies Record<keyof ReturnType<typeof turnRow>, true>);

export class SessionStore implements SessionRecorder {
  private readonly upsertSession;
  private readonly findThread;
  private readonly saveThread;
  private readonly insertTurn;

  constructor(
    private readonly db: Database,
    /** Where records wait for the next flush; without one, each is written at once. */
    private readonly batch?: WriteBatch,
    private readonly hasher = new TurnHasher(),
  ) {
    this.upsertSession = db.query(
      `INSERT INTO sessions (id, created_at, updated_at, turn_count) VALUES ($id, $now, $now, 1)
       ON CONFLICT(id) DO UPDATE SET updated_at = $now, turn_count = turn_count + 1`,
    );
    this.findThread = db.query<StoredThread, { session: string; root: string }>(
      "SELECT history_len, history_hash FROM threads WHERE session_id = $session AND root_hash = $root",
    );
    this.saveThread = db.query(
      `INSERT INTO threads (session_id, root_hash, history_len, history_hash) VALUES ($session, $root, $len, $hash)
       ON CONFLICT(session_id, root_hash) DO UPDATE SET history_len = $len, history_hash = $hash`,
    );
    this.insertTurn = db.query(
      `INSERT INTO turns (${turnColumns.join(", ")}) VALUES (${turnColumns.map((c) => `$${c}`).join(", ")})`,
    );
  }

  record(turn: TurnRecord): void {
    const now = Date.now();
    // Hashed now, not in the flush: a flush of many turns must not hold the event loop that long.
    const hashes = this.hasher.hashes(turn);
    if (this.batch) this.batch.add(() => this.write(turn, hashes, now));
    else this.db.transaction(() => this.write(turn, hashes, now))();
  }

  private write(turn: TurnRecord, hashes: string[], now: number): void {
    // conversationRoot(messages), from the hashes already made.
    const root = hashes[0] ?? "empty";
    this.upsertSession.run({ id: turn.sessionId, now });
    const plan = planTurn(turn, hashes, this.findThread.get({ session: turn.sessionId, root }));
    if (plan.thread) this.saveThread.run({ session: turn.sessionId, root, len: plan.thread.len, hash: plan.thread.hash });
    this.insertTurn.run(turnRow(turn, plan, now));
  }
}
