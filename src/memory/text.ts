// Words as memory compares them: keywords for search and near-duplicates, and per-clause
// polarity for contradictions ("use pnpm, never npm" affirms pnpm and negates npm).

const stopwords = new Set(
  (
    "a an the and or but if then else of to in on at by for with from into onto about as is are was were be been being am " +
    "this that these those it its we our us you your i me my he she they them their there here what which who whom whose " +
    "how when where why all any both each few more most other some such only own same so than too very can will just should " +
    "would could may might must shall do does did doing done have has had having not no nor don't dont doesn't isn't " +
    "always never please also now let lets let's use uses using used want need make sure really keep like prefer " +
    "repo repository project codebase here one thing things way get got go going okay ok yes yeah"
  ).split(" "),
);

/** Lower-case words that carry meaning: identifiers, paths, names, numbers. */
export function keywords(text: string): string[] {
  const words = text.toLowerCase().match(/[a-z0-9_][a-z0-9_.\-/@]*[a-z0-9_]|[a-z0-9]/g) ?? [];
  const out: string[] = [];
  for (const word of words) {
    if (stopwords.has(word) || (word.length < 2 && !/\d/.test(word))) continue;
    if (!out.includes(word)) out.push(word);
  }
  return out;
}

/** Share of the smaller set found in the other (1 = one contains the other). */
export function overlap(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const set = new Set(b);
  const shared = a.filter((w) => set.has(w)).length;
  return shared / Math.min(a.length, b.length);
}

/** Shared words over all words. */
export function jaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const set = new Set(b);
  const shared = a.filter((w) => set.has(w)).length;
  return shared / (a.length + b.length - shared);
}

const negation = /\b(never|not|don'?t|do not|doesn'?t|no longer|avoid|stop using|instead of|rather than|without|nor|no)\b/i;

export interface Stance {
  /** Keywords of each clause the statement affirms. */
  affirms: string[][];
  /** Keywords of each clause it negates ("never npm", "don't touch the generated files"). */
  negates: string[][];
}

/** Each clause is affirmative or negated as a whole; "use X instead of Y" is split at the negation. */
export function stance(text: string): Stance {
  const affirms: string[][] = [];
  const negates: string[][] = [];
  const add = (to: string[][], words: string[]) => {
    if (words.length > 0) to.push(words);
  };
  for (const clause of text.split(/[,;:.!?]|\b(?:but|and|while|whereas)\b/i)) {
    const match = negation.exec(clause);
    if (!match) {
      add(affirms, keywords(clause));
      continue;
    }
    add(affirms, keywords(clause.slice(0, match.index)));
    add(negates, keywords(clause.slice(match.index)));
  }
  return { affirms, negates };
}

/** For "already said" checks: lower case, words only, single spaces. */
export function normalized(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_./@-]+/g, " ")
    .trim();
}
