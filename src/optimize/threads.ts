import { Lru } from "../cache/lru.ts";

// What optimization remembers of each conversation thread (a Claude Code session, or one of its
// subagents): the decisions that must not change between turns, or the prefix would. Kept in
// memory, least recently used out; a forgotten thread starts over (one cache miss). One gateway
// process only: several replicas behind a balancer each keep their own.

export interface ThreadState {
  /** The profile chosen on the thread's first request. */
  profile: "full" | "small" | "off";
  /** Tool names in the order the upstream has seen them. */
  toolOrder: string[];
  /** The last tool result cleared (small profile), by its tool_use_id. */
  clearedThrough: string | undefined;
}

export class Threads {
  private readonly states: Lru<string, ThreadState>;

  constructor(capacity: number) {
    this.states = new Lru(capacity);
  }

  get size(): number {
    return this.states.size;
  }

  /** The thread's state; a new one (not yet kept) when the thread is unknown or unnamed. */
  get(thread: string | undefined, profile: ThreadState["profile"]): ThreadState {
    const known = thread === undefined ? undefined : this.states.get(thread);
    return known ?? { profile, toolOrder: [], clearedThrough: undefined };
  }

  set(thread: string | undefined, state: ThreadState): void {
    if (thread !== undefined) this.states.set(thread, state);
  }
}

/** A session and, for a subagent, its agent id: each sees its own growing conversation. */
export function threadKey(sessionId: string | undefined, agentId: string | null | undefined): string | undefined {
  if (sessionId === undefined) return undefined;
  return agentId ? `${sessionId}/${agentId}` : sessionId;
}
