import { z } from "zod";
import { Lru } from "../cache/lru.ts";
import type { ConversationRecord } from "../shared-state/ports.ts";

// What optimization remembers of each conversation thread (a Claude Code session, or one of its
// subagents): the decisions that must not change between turns, or the prefix would. Kept in
// memory, least recently used out; a forgotten thread starts over (one cache miss). With
// replicas sharing Redis, each state also goes to the thread's shared record, and the newer of
// the two (by when it was written) is the thread's state: a thread whose requests land on
// different replicas keeps one tool order, and a replica that lost Redis goes on with its own.

export interface ThreadState {
  /** The profile chosen on the thread's first request. */
  profile: "full" | "small" | "off";
  /** Tool names in the order the upstream has seen them. */
  toolOrder: string[];
  /** The last tool result cleared (small profile), by its tool_use_id. */
  clearedThrough: string | undefined;
  /** When it was written (epoch ms): the newer of the local and the shared state wins. */
  at: number;
}

/** The thread's field in its shared conversation record. */
const field = "optimize";

// Read back from Redis: outside input. Anthropic caps tool names at 128 characters.
const sharedSchema = z.object({
  profile: z.enum(["full", "small", "off"]),
  toolOrder: z.array(z.string().max(128)).max(1_000),
  clearedThrough: z.string().max(256).optional(),
  at: z.number().finite(),
});

function fromShared(record: ConversationRecord | undefined): ThreadState | undefined {
  const text = record?.get(field);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = sharedSchema.safeParse(json);
  return parsed.success ? { ...parsed.data, clearedThrough: parsed.data.clearedThrough } : undefined;
}

export class Threads {
  private readonly states: Lru<string, ThreadState>;

  constructor(
    capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    this.states = new Lru(capacity);
  }

  get size(): number {
    return this.states.size;
  }

  /** The thread's state; a new one (not yet kept) when the thread is unknown or unnamed. */
  get(thread: string | undefined, profile: ThreadState["profile"], shared?: ConversationRecord): ThreadState {
    const local = thread === undefined ? undefined : this.states.get(thread);
    const remote = thread === undefined ? undefined : fromShared(shared);
    const known = remote && (!local || remote.at >= local.at) ? remote : local;
    return known ?? { profile, toolOrder: [], clearedThrough: undefined, at: 0 };
  }

  set(thread: string | undefined, state: Omit<ThreadState, "at">, shared?: ConversationRecord): void {
    if (thread === undefined) return;
    const stamped = { ...state, at: this.now() };
    this.states.set(thread, stamped);
    shared?.set(field, JSON.stringify(stamped));
  }
}

/** A session and, for a subagent, its agent id: each sees its own growing conversation. */
export function threadKey(sessionId: string | undefined, agentId: string | null | undefined): string | undefined {
  if (sessionId === undefined) return undefined;
  return agentId ? `${sessionId}/${agentId}` : sessionId;
}
