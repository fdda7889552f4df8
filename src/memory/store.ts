import { contradicts, surprise, surpriseThreshold } from "./surprise.ts";
import { jaccard, keywords, overlap, stance } from "./text.ts";

// What memory keeps, whichever database holds it: the embedded SQLite file (sqlite-store.ts) or
// PostgreSQL shared by every replica (postgres-store.ts). Both decide what a new statement does
// with the same rules (decideLearning), so a memory learnt on either is the same memory.

export interface Memory {
  id: number;
  scope: string;
  text: string;
  source: "user" | "assistant" | "manual";
  importance: number;
  mentions: number;
  uses: number;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
}

export type LearnOutcome =
  | { kind: "stored"; id: number; superseded: number[] }
  | { kind: "merged"; id: number }
  | { kind: "skipped"; score: number };

export interface LearnOptions {
  context?: string;
  force?: boolean;
  now?: number;
}

/** A memory as stored: its keywords kept beside its text for the near-duplicate checks. */
export interface StoredMemory extends Memory {
  keywords: string;
}

/** A row of `memories` as either database returns it (PostgreSQL's BIGINTs arrive as strings). */
export interface MemoryRow {
  id: number | string;
  scope: string;
  text: string;
  keywords: string;
  source: Memory["source"];
  importance: number;
  mentions: number;
  uses: number;
  created_at: number | string;
  updated_at: number | string;
  last_used_at: number | string | null;
}

/** The columns of a MemoryRow, the same in both schemas. */
export const memoryColumns = "id, scope, text, keywords, source, importance, mentions, uses, created_at, updated_at, last_used_at";

/** Ids and millisecond times stay well within a double's integers. */
export function toMemory(row: MemoryRow): Memory {
  return {
    id: Number(row.id),
    scope: row.scope,
    text: row.text,
    source: row.source,
    importance: row.importance,
    mentions: row.mentions,
    uses: row.uses,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** A session's block as kept, and when it was (it is pruned MEMORY_MAX_AGE_DAYS after). */
export interface KeptBlock {
  block: string;
  createdAt: number;
}

export interface MemoryStore {
  /**
   * One statement into a scope: a contradicted memory is replaced by it, a near-duplicate takes
   * its wording (mentions add up), anything else is stored if surprising enough. `force` (a
   * statement added by hand) skips the gate.
   */
  learn(scope: string, text: string, source: Memory["source"], options?: LearnOptions): Promise<LearnOutcome>;
  /** How many memories are kept (the dashboard polls this; list() would read them all). */
  count(): Promise<number>;
  list(scope?: string): Promise<Memory[]>;
  get(id: number): Promise<Memory | undefined>;
  /** Memories of `scopes` matching any of `words`, with their full-text relevance (higher is better). */
  matching(scopes: readonly string[], words: readonly string[], limit: number): Promise<{ memory: Memory; relevance: number }[]>;
  /** Every memory of `scopes`, newest first, up to `limit`. */
  inScopes(scopes: readonly string[], limit: number): Promise<Memory[]>;
  markUsed(ids: readonly number[], now?: number): Promise<void>;
  forget(id: number): Promise<boolean>;
  /** Restores exported memories as they were (counts and times kept); returns how many. */
  restore(memories: readonly Omit<Memory, "id">[]): Promise<number>;
  /**
   * Deletes memories neither restated nor used within `maxAgeMs`, then the lowest-ranked beyond
   * `maxCount` in each scope, and session blocks older than `maxAgeMs`. Returns memories deleted.
   */
  prune(maxAgeMs: number, maxCount: number, now?: number): Promise<number>;
  sessionBlock(client: string, sessionId: string): Promise<KeptBlock | undefined>;
  /** The block the conversation got first, under whichever session id it then had. */
  conversationBlock(client: string, conversation: string): Promise<string | undefined>;
  /** Keeps the first block a session was given; returns the one kept (another request may have won). */
  keepSessionBlock(client: string, sessionId: string, conversation: string, scope: string, block: string, now?: number): Promise<KeptBlock>;
}

/**
 * Near-duplicates: nearly the same words, or one's words almost all in the other's — when it has
 * a few ("use npm" is not a duplicate of every statement naming npm).
 */
const sameWords = 0.6;
const containedWords = 0.85;
const minContained = 3;

/** What learning one statement does to a scope, decided from the scope's memories. */
export type LearnDecision =
  | { kind: "merge"; id: number; text: string; keywords: string; importance: number }
  | { kind: "store"; keywords: string; importance: number; supersede: number[] }
  | { kind: "skip"; score: number };

export function decideLearning(existing: readonly Pick<StoredMemory, "id" | "text" | "keywords" | "importance">[], text: string, options: LearnOptions): LearnDecision {
  const known = existing.map((row) => ({ row, keywords: row.keywords.split(" ").filter(Boolean), stance: stance(row.text) }));
  const words = keywords(text);
  const own = stance(text);
  const contradicted = known.filter((k) => contradicts(own, k.stance)).map((k) => k.row.id);
  if (contradicted.length === 0) {
    const twin = known.find(
      (k) => jaccard(words, k.keywords) >= sameWords || (Math.min(words.length, k.keywords.length) >= minContained && overlap(words, k.keywords) >= containedWords),
    );
    if (twin) return { kind: "merge", id: twin.row.id, text, keywords: words.join(" "), importance: options.force ? 1 : twin.row.importance };
  }
  const score = options.force ? 1 : surprise(text, known, options.context ?? "").score;
  if (!options.force && score < surpriseThreshold && contradicted.length === 0) return { kind: "skip", score };
  return { kind: "store", keywords: words.join(" "), importance: score, supersede: contradicted };
}
