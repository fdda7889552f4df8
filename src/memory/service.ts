import type { Database } from "bun:sqlite";
import type { MessagesRequest } from "../anthropic/schema.ts";
import type { Config } from "../config/schema.ts";
import type { MemoryMetrics } from "../observability/metrics/memory-metrics.ts";
import { countTextTokens } from "../optimize/tokens.ts";
import { conversationRoot } from "../store/sessions.ts";
import { extractCandidates, userWords } from "./extract.ts";
import { retrieve } from "./retrieve.ts";
import { clientContext, globalScope, scopeOf } from "./scope.ts";
import { MemoryStore, type LearnOutcome, type Memory } from "./store.ts";

// Long-term memory as the gateway uses it: learn from finished turns, give each new session
// one block, and prune. The CLI and the HTTP routes use the same store.

export type MemorySettings = Pick<Config, "MEMORY_MAX_AGE_DAYS" | "MEMORY_MAX_COUNT" | "MEMORY_DECAY_HALF_LIFE" | "MEMORY_MAX_TOKENS">;

const dayMs = 86_400_000;
const pruneEveryMs = 3_600_000;
const blockOpen = "<lynkr-memory>\nRemembered from the user's earlier sessions in this project (a later statement in this conversation overrides these):\n";
const blockClose = "</lynkr-memory>";

/** The text of one memory block; empty when there is nothing to say. */
export function renderBlock(memories: readonly Pick<Memory, "text">[]): string {
  if (memories.length === 0) return "";
  return `${blockOpen}${memories.map((m) => `- ${m.text}\n`).join("")}${blockClose}`;
}

/** The user's own words in the first user message: what the session is about. */
function firstUserWords(request: Pick<MessagesRequest, "messages">): string {
  const first = request.messages.find((m) => m.role === "user");
  return first ? userWords(first.content).slice(0, 4000) : "";
}

export class MemoryService {
  readonly store: MemoryStore;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    db: Database,
    private readonly settings: MemorySettings,
    private readonly metrics?: MemoryMetrics,
  ) {
    this.store = new MemoryStore(db);
  }

  /**
   * The block of a session: made at its first request from the memories of its project (and
   * global ones), then the same bytes on every later request, whatever was learnt meanwhile. A
   * request that continues a conversation under a session id not seen before (a forked or
   * resumed run, a gateway behind a balancer that lost nothing but the id) gets the block that
   * conversation started with: a new block mid-conversation would change the system prompt and
   * lose the upstream's cached prefix from there on; one that had no block (it began before
   * memory was on, or with another client) goes on without one. Only a conversation's first
   * request (no answer in it yet) is given new memories.
   */
  blockFor(sessionId: string, request: Pick<MessagesRequest, "system" | "messages">, client: string, now = Date.now()): string {
    const kept = this.store.sessionBlock(client, sessionId);
    if (kept !== undefined) return kept;
    const conversation = conversationRoot(request.messages);
    if (request.messages.some((m) => m.role === "assistant")) {
      const continued = this.store.conversationBlock(client, conversation) ?? "";
      return this.store.keepSessionBlock(client, sessionId, conversation, scopeOf(request, client), continued, now);
    }
    // A gateway that learns nothing new for weeks still lets old memories go before handing them out.
    if (now - this.prunedAt >= pruneEveryMs) this.prune(now);
    const scope = scopeOf(request, client);
    const budget = this.settings.MEMORY_MAX_TOKENS - countTextTokens(blockOpen + blockClose);
    const memories = retrieve(this.store, {
      scopes: [scope, globalScope],
      query: firstUserWords(request),
      project: scope.startsWith("project:") ? scope.slice("project:".length) : undefined,
      halfLifeDays: this.settings.MEMORY_DECAY_HALF_LIFE,
      maxTokens: budget,
      clientContext: clientContext(request),
      now,
    });
    const rendered = renderBlock(memories);
    const block = this.store.keepSessionBlock(client, sessionId, conversation, scope, rendered, now);
    if (block === rendered) {
      this.store.markUsed(memories.map((m) => m.id), now);
      this.metrics?.session(memories.length, rendered === "" ? 0 : countTextTokens(rendered));
    }
    return block;
  }

  /** Learns from a finished turn: the user's statements and the decisions they accepted. */
  learnFrom(request: Pick<MessagesRequest, "system" | "messages">, client: string, now = Date.now()): LearnOutcome[] {
    const candidates = extractCandidates(request.messages);
    if (candidates.length === 0) return [];
    const scope = scopeOf(request, client);
    const outcomes = candidates.map((c) => this.store.learn(scope, c.text, c.source, { context: c.context, now }));
    this.countOutcomes(outcomes);
    if (outcomes.some((o) => o.kind === "stored")) this.prune(now);
    return outcomes;
  }

  /** A statement added by hand (CLI, HTTP): stored without the surprise gate. */
  add(scope: string, text: string, now = Date.now()): LearnOutcome {
    const outcome = this.store.learn(scope, text, "manual", { force: true, now });
    this.countOutcomes([outcome]);
    this.prune(now);
    return outcome;
  }

  forget(id: number): boolean {
    const found = this.store.forget(id);
    if (found) this.metrics?.count("forgotten");
    return found;
  }

  /** Applies MEMORY_MAX_AGE_DAYS and MEMORY_MAX_COUNT; returns how many memories went. */
  prune(now = Date.now()): number {
    this.prunedAt = now;
    const pruned = this.store.prune(this.settings.MEMORY_MAX_AGE_DAYS * dayMs, this.settings.MEMORY_MAX_COUNT, now);
    this.metrics?.count("pruned", pruned);
    return pruned;
  }

  private countOutcomes(outcomes: readonly LearnOutcome[]): void {
    for (const outcome of outcomes) {
      if (outcome.kind === "stored") {
        this.metrics?.count("stored");
        this.metrics?.count("superseded", outcome.superseded.length);
      } else if (outcome.kind === "merged") this.metrics?.count("merged");
    }
  }
}

/** The gateway's memory, pruned once at start-up; undefined when MEMORY_ENABLED=false. */
export function createMemory(config: Config, db: Database, metrics: MemoryMetrics): MemoryService | undefined {
  if (!config.MEMORY_ENABLED) return undefined;
  const memory = new MemoryService(db, config, metrics);
  memory.prune();
  return memory;
}
