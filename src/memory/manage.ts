import { search } from "./retrieve.ts";
import { globalScope, projectScope } from "./scope.ts";
import type { MemoryService } from "./service.ts";
import type { Memory } from "./store.ts";
import { fromJsonLines, toJsonLines } from "./transfer.ts";

// What users do with their memories, the same from the CLI and over HTTP: list, search, add,
// forget, export, import. A project is named by its folder (normalised to its git root).

export interface Where {
  /** A project folder; absolute, or relative to `cwd`. */
  project?: string;
  global?: boolean;
}

export function scopeFor(where: Where, cwd: string): string | undefined {
  if (where.global) return globalScope;
  if (where.project !== undefined) return projectScope(where.project.startsWith("/") ? where.project : `${cwd}/${where.project}`);
  return undefined;
}

/** Ranked as a session would rank them (text relevance, recency, importance, uses); a project's search includes global memories. */
export async function searchMemories(memory: MemoryService, query: string, scope: string | undefined, halfLifeDays: number): Promise<(Memory & { score: number })[]> {
  const scopes = scope ? [scope, globalScope] : [...new Set((await memory.store.list()).map((m) => m.scope))];
  return (await search(memory.store, { scopes, query, halfLifeDays })).map((r) => ({ ...r.memory, score: Math.round(r.score * 1000) / 1000 }));
}

export async function exportMemories(memory: MemoryService): Promise<string> {
  return toJsonLines(await memory.store.list());
}

export async function importMemories(memory: MemoryService, jsonLines: string): Promise<number> {
  return memory.store.restore(fromJsonLines(jsonLines));
}
