import type { Counter, Histogram, Registry } from "./registry.ts";

// Long-term memory (src/memory/): what was learnt, what was dropped, what sessions were given.

export type MemoryEvent = "stored" | "merged" | "superseded" | "pruned" | "forgotten";

export class MemoryMetrics {
  private readonly events: Counter;
  private readonly sessions: Counter;
  private readonly injected: Histogram;
  private readonly tokens: Counter;

  constructor(registry: Registry) {
    this.events = registry.counter("lynkr_memory_events_total", "Memories stored, merged into a near-duplicate, superseded by a contradiction, pruned or forgotten.", ["event"]);
    this.sessions = registry.counter("lynkr_memory_sessions_total", "Sessions given a memory block (with memories or without).", ["result"]);
    this.injected = registry.histogram("lynkr_memory_injected_memories", "Memories injected per session.", [], [0, 1, 2, 5, 10, 20, 50]);
    this.tokens = registry.counter("lynkr_memory_injected_tokens_total", "Tokens of memory blocks given to new sessions (cl100k).");
  }

  count(event: MemoryEvent, n = 1): void {
    if (n > 0) this.events.inc({ event }, n);
  }

  /** One new session's block. */
  session(memories: number, tokens: number): void {
    this.sessions.inc({ result: memories > 0 ? "injected" : "empty" });
    this.injected.observe({}, memories);
    this.tokens.inc({}, tokens);
  }
}
