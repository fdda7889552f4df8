import { jaccard, keywords, overlap, stance, type Stance } from "./text.ts";

// Surprise gating, after Lynkr's five factors: a statement is worth remembering when it is new,
// contradicts what is known, is specific, is stressed, or changes the subject. Each factor is
// 0..1; the score is their weighted sum and becomes the memory's importance.
//
//   novelty         0.30  1 - the best keyword overlap with a memory of the same scope
//   contradiction   0.20  1 when it affirms what a memory negates or the reverse
//   specificity     0.25  paths, file names, identifiers, versions, tool names (capped at 1)
//   emphasis        0.15  always/never/must/important/remember, "!", words in capitals
//   context switch  0.10  1 - overlap with the conversation before the statement
//
// Lynkr's code weighs them 0.30 / 0.40 / 0.15 / 0.10 / 0.05. Here a contradiction replaces the
// memory it contradicts whatever its score, so its weight only lifts borderline statements, and
// specificity gains: a path, file or tool name is what makes a statement worth keeping.
// A candidate is kept at score >= 0.35. A restatement (novelty 0) still merges into its memory:
// gating decides what is new, merging what is known again.

const surpriseWeights = { novelty: 0.3, contradiction: 0.2, specificity: 0.25, emphasis: 0.15, contextSwitch: 0.1 } as const;
export const surpriseThreshold = 0.35;

export interface Known {
  keywords: string[];
  stance: Stance;
}

export interface Surprise {
  novelty: number;
  contradiction: number;
  specificity: number;
  emphasis: number;
  contextSwitch: number;
  score: number;
}

/** Clauses about the same thing: at least half their words shared. */
const sameSubject = 0.5;

/** True when one statement affirms what the other negates, clause by clause. */
export function contradicts(a: Stance, b: Stance): boolean {
  const clash = (xs: string[][], ys: string[][]) => xs.some((x) => ys.some((y) => jaccard(x, y) >= sameSubject));
  return clash(a.affirms, b.negates) || clash(a.negates, b.affirms);
}

function specificity(text: string): number {
  let points = 0;
  if (/[\w.-]*\/[\w./-]+/.test(text)) points += 0.5; // a path
  if (/\b[\w-]+\.(ts|js|json|md|py|go|rs|toml|ya?ml|lock|sql|sh|env)\b/i.test(text)) points += 0.4; // a file
  if (/`[^`]+`/.test(text)) points += 0.3; // code
  if (/\b[a-z]+[A-Z][a-zA-Z]*\b|\b[a-z]+_[a-z_]+\b/.test(text)) points += 0.3; // an identifier
  if (/\b\d+(\.\d+)+\b|\bv\d+\b/.test(text)) points += 0.3; // a version
  if (/\b(npm|pnpm|yarn|bun|deno|node|docker|git|make|cargo|pip|uv|poetry|go|jest|vitest|pytest|eslint|biome|prettier|tsc|postgres|sqlite|redis|react|vue|svelte|hono|express|kubernetes|terraform)\b/i.test(text)) points += 0.4;
  return Math.min(1, points);
}

function emphasis(text: string): number {
  let points = 0;
  if (/\b(always|never|must|important|critical|remember|every time|under no circumstances)\b/i.test(text)) points += 0.6;
  if (/!/.test(text)) points += 0.2;
  if (/\b[A-Z]{3,}\b/.test(text.replace(/\b(API|URL|CLI|JSON|HTTP|SQL|CSS|HTML|README|TODO)\b/g, ""))) points += 0.3;
  return Math.min(1, points);
}

export function surprise(text: string, known: readonly Known[], context: string): Surprise {
  const words = keywords(text);
  const own = stance(text);
  const closest = known.reduce((best, k) => Math.max(best, overlap(words, k.keywords)), 0);
  const factors = {
    novelty: 1 - closest,
    contradiction: known.some((k) => contradicts(own, k.stance)) ? 1 : 0,
    specificity: specificity(text),
    emphasis: emphasis(text),
    contextSwitch: context.trim() === "" ? 1 : 1 - overlap(words, keywords(context)),
  };
  const w = surpriseWeights;
  const score =
    w.novelty * factors.novelty +
    w.contradiction * factors.contradiction +
    w.specificity * factors.specificity +
    w.emphasis * factors.emphasis +
    w.contextSwitch * factors.contextSwitch;
  return { ...factors, score: Math.round(score * 1000) / 1000 };
}
