import type { MessagesRequest } from "../anthropic/schema.ts";
import { Lru } from "../cache/lru.ts";
import type { Config } from "../config/schema.ts";
import type { MemoryMetrics } from "../observability/metrics/memory-metrics.ts";
import { logger } from "../observability/logger.ts";
import { countTextTokens } from "../optimize/tokens.ts";
import { conversationRoot } from "../store/sessions.ts";
import { extractCandidates, userWords } from "./extract.ts";
import { retrieve } from "./retrieve.ts";
import { clientContext, globalScope, scopeOf, type ScopeScan } from "./scope.ts";
import type { KeptBlock, LearnOutcome, Memory, MemoryStore } from "./store.ts";

// Long-term memory as the gateway uses it: learn from finished turns, give each new session
// one block, and prune. The CLI and the HTTP routes use the same store: the SQLite file, or
// PostgreSQL shared by every replica.

export type MemorySettings = Pick<Config, "MEMORY_MAX_AGE_DAYS" | "MEMORY_MAX_COUNT" | "MEMORY_DECAY_HALF_LIFE" | "MEMORY_MAX_TOKENS">;

const dayMs = 86_400_000;
const pruneEveryMs = 3_600_000;
const blockOpen = "<lynkr-memory>\nRemembered from the user's earlier sessions in this project (a later statement in this conversation overrides these):\n";
const blockClose = "</lynkr-memory>";
/** Conversations whose learning is remembered; one beyond drops the longest unseen (it is then read as new). */
const maxConversations = 10_000;
/** Sessions whose block is remembered here; one beyond drops the longest unseen (the store still has it). */
const maxSessions = 10_000;
/** Statements a turn sent again is checked against (a turn yields at most eight each time). */
const maxSaidPerTurn = 64;

/**
 * What was learnt from a conversation: its last turn (messages `from` to `to`, and the
 * statements learnt from it) and where its project was found.
 */
interface Cursor {
  from: number;
  to: number;
  said: Set<string>;
  scope: ScopeScan;
}

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
  private prunedAt = Number.NEGATIVE_INFINITY;
  /** By client and conversation. */
  private readonly cursors = new Lru<string, Cursor>(maxConversations);
  /** Sessions' blocks by client and session. */
  private readonly kept = new Lru<string, KeptBlock>(maxSessions);

  constructor(
    readonly store: MemoryStore,
    private readonly settings: MemorySettings,
    private readonly metrics?: MemoryMetrics,
  ) {}

  /**
   * The block of a session: made at its first request from the memories of its project (and
   * global ones), then the same bytes on every later request, whatever was learnt meanwhile. A
   * request that continues a conversation under a session id not seen before (a forked or
   * resumed run, a gateway behind a balancer that lost nothing but the id) gets the block that
   * conversation started with: a new block mid-conversation would change the system prompt and
   * lose the upstream's cached prefix from there on; one that had no block (it began before
   * memory was on, or with another client) goes on without one. Only a conversation's first
   * request (no answer in it yet) is given new memories. Blocks are read from the store, so a
   * session whose requests reach different replicas sharing PostgreSQL gets the same bytes.
   */
  async blockFor(sessionId: string, request: Pick<MessagesRequest, "system" | "messages">, client: string, now = Date.now()): Promise<string> {
    const key = `${client}\u0000${sessionId}`;
    const known = this.kept.get(key);
    if (known !== undefined && known.createdAt >= now - this.settings.MEMORY_MAX_AGE_DAYS * dayMs) return known.block;
    const kept = await this.store.sessionBlock(client, sessionId);
    if (kept !== undefined) return this.remember(key, kept);
    const conversation = conversationRoot(request.messages);
    if (request.messages.some((m) => m.role === "assistant")) {
      const continued = (await this.store.conversationBlock(client, conversation)) ?? "";
      return this.remember(key, await this.store.keepSessionBlock(client, sessionId, conversation, scopeOf(request, client), continued, now));
    }
    // A gateway that learns nothing new for weeks still lets old memories go before handing them out.
    if (now - this.prunedAt >= pruneEveryMs) await this.prune(now);
    const scope = scopeOf(request, client);
    const budget = this.settings.MEMORY_MAX_TOKENS - countTextTokens(blockOpen + blockClose);
    const memories = await retrieve(this.store, {
      scopes: [scope, globalScope],
      query: firstUserWords(request),
      project: scope.startsWith("project:") ? scope.slice("project:".length) : undefined,
      halfLifeDays: this.settings.MEMORY_DECAY_HALF_LIFE,
      maxTokens: budget,
      clientContext: clientContext(request),
      now,
    });
    const rendered = renderBlock(memories);
    const block = this.remember(key, await this.store.keepSessionBlock(client, sessionId, conversation, scope, rendered, now));
    if (block === rendered) {
      // The block is kept: failing to count its uses must not cost the request its block.
      await this.store.markUsed(memories.map((m) => m.id), now).catch((error: unknown) => logger.error("could not count memory uses", { error: String(error) }));
      this.metrics?.session(memories.length, rendered === "" ? 0 : countTextTokens(rendered));
    }
    return block;
  }

  /**
   * Keeps a session's block here too: once kept in the store it never changes (the first one
   * wins), so later requests need not ask the store — PostgreSQL's round trip saved — until
   * pruning may have taken it (MEMORY_MAX_AGE_DAYS after it was made): then the store says.
   */
  private remember(key: string, kept: KeptBlock): string {
    this.kept.set(key, kept);
    return kept.block;
  }

  /**
   * What of this request is new to its conversation, and the conversation's cursor moved past
   * it. Only turns with something to learn move it: one that taught nothing needs no skipping
   * later, as reading starts after the last answer anyway. A request as long as the last one
   * learnt from is that turn sent again (Claude Code re-sends a compaction request with one more
   * paragraph): read again, less what it already taught. A shorter history is another one under
   * the same first message (a rewind): read as if first seen.
   */
  private advance(request: Pick<MessagesRequest, "messages">, client: string): { learntUpTo: number; said: ReadonlySet<string>; cursor: Cursor } {
    const length = request.messages.length;
    const key = `${client}\u0000${conversationRoot(request.messages)}`;
    const known = this.cursors.get(key);
    let cursor: Cursor;
    let said: ReadonlySet<string> = new Set();
    if (known !== undefined && known.to === length) {
      cursor = known;
      said = new Set(known.said);
    } else {
      const usable = known !== undefined && known.to < length ? known : undefined;
      cursor = { from: usable?.to ?? 0, to: length, said: new Set(), scope: usable?.scope ?? { scanned: 0 } };
    }
    this.cursors.set(key, cursor);
    return { learntUpTo: cursor.from, said, cursor };
  }

  /**
   * Learns from a finished turn: the user's statements and the decisions they accepted, read
   * from what is new since the conversation's last turn (not the whole history again). A
   * conversation this gateway has not seen (a restart, another replica served its earlier turns)
   * is read from its last answer on, as every turn is: nothing before it is learnt twice.
   */
  async learnFrom(request: Pick<MessagesRequest, "system" | "messages">, client: string, now = Date.now()): Promise<LearnOutcome[]> {
    // Most turns are a tool loop's: results after the last answer teach nothing, and need no cursor.
    if (extractCandidates(request.messages).length === 0) return [];
    const { learntUpTo, said, cursor } = this.advance(request, client);
    const candidates = extractCandidates(request.messages, learntUpTo).filter((c) => !said.has(c.text));
    if (candidates.length === 0) return [];
    for (const c of candidates) if (cursor.said.size < maxSaidPerTurn) cursor.said.add(c.text);
    const scope = scopeOf(request, client, cursor.scope);
    const outcomes: LearnOutcome[] = [];
    for (const c of candidates) outcomes.push(await this.store.learn(scope, c.text, c.source, { context: c.context, now }));
    this.countOutcomes(outcomes);
    if (outcomes.some((o) => o.kind === "stored")) await this.prune(now);
    return outcomes;
  }

  /** A statement added by hand (CLI, HTTP): stored without the surprise gate. */
  async add(scope: string, text: string, now = Date.now()): Promise<LearnOutcome> {
    const outcome = await this.store.learn(scope, text, "manual", { force: true, now });
    this.countOutcomes([outcome]);
    await this.prune(now);
    return outcome;
  }

  async forget(id: number): Promise<boolean> {
    const found = await this.store.forget(id);
    if (found) this.metrics?.count("forgotten");
    return found;
  }

  /** Applies MEMORY_MAX_AGE_DAYS and MEMORY_MAX_COUNT; returns how many memories went. */
  async prune(now = Date.now()): Promise<number> {
    this.prunedAt = now;
    const pruned = await this.store.prune(this.settings.MEMORY_MAX_AGE_DAYS * dayMs, this.settings.MEMORY_MAX_COUNT, now);
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

/** What createMemory reads: whether memory is on, and the service's own settings. */
export type MemoryServiceSettings = Pick<Config, "MEMORY_ENABLED" | keyof MemorySettings>;

/**
 * The gateway's memory, pruned once at start-up (on SQLite before this returns: its calls run
 * synchronously underneath); undefined when MEMORY_ENABLED=false.
 */
export function createMemory(config: MemoryServiceSettings, store: MemoryStore, metrics: MemoryMetrics): MemoryService | undefined {
  if (!config.MEMORY_ENABLED) return undefined;
  const memory = new MemoryService(store, config, metrics);
  memory.prune().catch((error: unknown) => logger.error("could not prune memories", { error: String(error) }));
  return memory;
}
