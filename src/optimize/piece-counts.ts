import type { EncodingName } from "./encodings.ts";

/** A count that pauses between slices of work (tokens.ts); a synchronous caller runs it to the end. */
export type Counting = Generator<void, number, void>;

/**
 * Claude Code resends the same system prompt, tools and history on every turn of a session, so
 * each piece of a request (a system block, a content block, a tool) is counted once and its count
 * remembered: a later turn encodes only what is new. A key is 53 bits of a seeded hash of the
 * text, one seed per encoding (random per process, so a client cannot build a collision to plant
 * a count; by chance, one lookup in ~10^12 among 8,192 entries); the text itself is not kept, so the
 * memo's size is bounded by its entry count alone (two numbers an entry: 8,192 take well under 1 MB).
 */
export class PieceCounts {
  private readonly counts = new Map<number, number>();
  private readonly seed = crypto.getRandomValues(new BigUint64Array(1))[0] ?? 0n;

  constructor(
    readonly maxEntries = 8192,
    /** Shorter pieces cost less to encode than to hash and remember. */
    readonly minChars = 64,
  ) {}

  get size(): number {
    return this.counts.size;
  }

  /** `text`'s count in `encoding`: remembered, or counted by `count` and remembered. */
  *count(text: string, encoding: EncodingName, count: (text: string, encoding: EncodingName) => Counting): Counting {
    if (text.length < this.minChars) return yield* count(text, encoding);
    const key = Number(BigInt.asUintN(53, Bun.hash.wyhash(text, encoding === "o200k_base" ? this.seed : this.seed ^ 1n)));
    const known = this.counts.get(key);
    if (known !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.counts.delete(key);
      this.counts.set(key, known);
      return known;
    }
    const counted = yield* count(text, encoding);
    this.counts.set(key, counted);
    if (this.counts.size > this.maxEntries) {
      const oldest = this.counts.keys().next();
      if (!oldest.done) this.counts.delete(oldest.value);
    }
    return counted;
  }

  clear(): void {
    this.counts.clear();
  }
}

/** The process's memo, shared by every request. */
export const pieceCounts = new PieceCounts();
