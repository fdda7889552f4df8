import { countTextTokens } from "../optimize/tokens.ts";
import type { Memory, MemoryStore } from "./store.ts";
import { keywords, normalized } from "./text.ts";

// Which memories a new session gets: full-text search (SQLite's FTS5 with BM25, or PostgreSQL's
// tsvector with ts_rank_cd) over the keywords of its first user message
// and its project's name, plus the project's other memories after them, each ranked by
//   (1 + relevance) · 0.5^(age / half-life) · (0.5 + importance) · (1 + ln(1 + uses + mentions))
// where age counts from the last time the memory was stated or used. Memories the client's own
// context already states (CLAUDE.md, its system prompt) are left out; the rest fill the token cap.

export interface RetrieveOptions {
  scopes: readonly string[];
  /** The session's first user message (the user's own words). */
  query: string;
  /** The project folder's own words (its path), part of the query. */
  project?: string;
  halfLifeDays: number;
  maxTokens: number;
  /** What the client already put in the prompt. */
  clientContext?: string;
  now?: number;
}

export interface Ranked {
  memory: Memory;
  score: number;
}

const dayMs = 86_400_000;
const maxCandidates = 200;

function rank(memory: Memory, relevance: number, halfLifeDays: number, now: number): number {
  const ageDays = Math.max(0, now - Math.max(memory.updatedAt, memory.lastUsedAt ?? 0)) / dayMs;
  const decay = 0.5 ** (ageDays / halfLifeDays);
  return (1 + relevance) * decay * (0.5 + memory.importance) * (1 + Math.log1p(memory.uses + memory.mentions - 1));
}

/** The query's words: the message's keywords, then the project folder's name parts. */
function queryWords(query: string, project?: string): string[] {
  const projectWords = project ? keywords(project.split("/").slice(-2).join(" ").replace(/[-_.]/g, " ")) : [];
  return [...new Set([...keywords(query), ...projectWords])].slice(0, 64);
}

/** Ranked memories for a query, best first (no token cap). */
export async function search(store: MemoryStore, options: Omit<RetrieveOptions, "maxTokens">): Promise<Ranked[]> {
  const now = options.now ?? Date.now();
  const ranked = new Map<number, Ranked>();
  for (const { memory, relevance } of await store.matching(options.scopes, queryWords(options.query, options.project), maxCandidates)) {
    ranked.set(memory.id, { memory, score: rank(memory, relevance, options.halfLifeDays, now) });
  }
  return [...ranked.values()].sort((a, b) => b.score - a.score || b.memory.id - a.memory.id);
}

const maxContextLines = 5000;

/**
 * Whether the client's context already says a memory: its words in order, or a line of the
 * context holding nearly all its keywords (and not many more: a long line mentions everything).
 */
export function alreadyStated(context: string): (text: string) => boolean {
  const whole = normalized(context);
  const lines = context
    .split("\n")
    .slice(0, maxContextLines)
    .map((line) => keywords(line.slice(0, 1000)))
    .filter((words) => words.length > 0);
  return (text) => {
    if (whole.includes(normalized(text))) return true;
    const words = keywords(text);
    if (words.length === 0) return false;
    return lines.some((line) => line.length <= words.length * 3 && words.filter((w) => line.includes(w)).length / words.length >= 0.85);
  };
}

/** The memories a session starts with, within `maxTokens` for their lines. */
export async function retrieve(store: MemoryStore, options: RetrieveOptions): Promise<Memory[]> {
  const now = options.now ?? Date.now();
  const matched = await search(store, options);
  const seen = new Set(matched.map((r) => r.memory.id));
  // The project's other memories follow the matches: a question about tests still needs "we use pnpm".
  const rest = (await store.inScopes(options.scopes, maxCandidates))
    .filter((m) => !seen.has(m.id))
    .map((memory) => ({ memory, score: rank(memory, 0, options.halfLifeDays, now) }))
    .sort((a, b) => b.score - a.score || b.memory.id - a.memory.id);
  const stated = alreadyStated(options.clientContext ?? "");
  const chosen: Memory[] = [];
  let tokens = 0;
  for (const { memory } of [...matched, ...rest]) {
    if (stated(memory.text)) continue;
    const cost = countTextTokens(`- ${memory.text}\n`);
    if (tokens + cost > options.maxTokens) continue;
    tokens += cost;
    chosen.push(memory);
  }
  return chosen;
}
