/** A js-tiktoken rank file: the pre-tokenizer, the special tokens, and the ranks (lines of base64 tokens). */
export interface RankFile {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

/**
 * Counts tokens exactly as js-tiktoken's `encode(text, "all").length` does, from a compact table.
 * js-tiktoken keeps each token three times (a base64 key, a "104,101,108" string key, a
 * Uint8Array for decoding): o200k took 77 MB and ~0.4 s to build, cl100k 32 MB. Counting needs
 * only "is this byte string a token", so the tokens' bytes sit end to end in one array, found
 * through an open-addressing hash table: ~6 MB for o200k. The table is built a batch of lines
 * at a time (`build`), so an async caller can give the event loop its turn between batches.
 */
export class BpeCounter {
  private readonly pieces: RegExp;
  private readonly specials: RegExp;
  private bytes = new Uint8Array(0);
  /** Token i's bytes are bytes[starts[i] .. starts[i + 1]). */
  private starts = new Uint32Array(0);
  /** Token i's rank: merges join the lowest-ranked pair first. */
  private ranksOf = new Uint32Array(0);
  /** Index of a token + 1 in each slot; 0 is empty. */
  private slots = new Int32Array(0);
  private mask = 0;
  private tokens = 0;
  private scratch = new Uint8Array(256);
  private readonly encoder = new TextEncoder();
  private steps: Generator<void, void, void> | undefined;

  constructor(private readonly ranks: RankFile) {
    this.pieces = new RegExp(ranks.pat_str, "gu");
    const names = Object.keys(ranks.special_tokens).map((token) => token.replace(/[\\^$*+?.()|[\]{}]/g, "\\$&"));
    this.specials = new RegExp(names.join("|"), "g");
    this.steps = this.fill();
  }

  /** Whether the table is complete. */
  get ready(): boolean {
    return this.steps === undefined;
  }

  /** Builds one batch of the table (~1-2 ms); true once it is complete. */
  build(): boolean {
    if (this.steps?.next().done) this.steps = undefined;
    return this.steps === undefined;
  }

  private *fill(): Generator<void, void, void> {
    const source = this.ranks.bpe_ranks;
    // Sized exactly, once: a line holds a prefix, a rank and its tokens, each after a space.
    let spaces = 0;
    let base64Chars = 0;
    for (let at = source.indexOf(" "); at >= 0; at = source.indexOf(" ", at + 1)) spaces++;
    base64Chars = source.length - spaces;
    const capacity = spaces + 1;
    this.starts = new Uint32Array(capacity + 1);
    this.ranksOf = new Uint32Array(capacity);
    this.bytes = new Uint8Array(Math.ceil((base64Chars * 3) / 4));
    let size = 1;
    while (size < capacity * 1.5) size <<= 1;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    let written = 0;
    let lineStart = 0;
    let decoded = 0;
    while (lineStart < source.length) {
      let lineEnd = source.indexOf("\n", lineStart);
      if (lineEnd < 0) lineEnd = source.length;
      // "<prefix> <first rank> <token> <token> ...": tokens take consecutive ranks from the first.
      const prefixEnd = source.indexOf(" ", lineStart);
      if (prefixEnd > 0 && prefixEnd < lineEnd) {
        const offsetEnd = source.indexOf(" ", prefixEnd + 1);
        const rankEnd = offsetEnd < 0 || offsetEnd > lineEnd ? lineEnd : offsetEnd;
        let rank = Number.parseInt(source.slice(prefixEnd + 1, rankEnd), 10);
        let at = rankEnd + 1;
        while (at < lineEnd) {
          let end = source.indexOf(" ", at);
          if (end < 0 || end > lineEnd) end = lineEnd;
          if (end > at) {
            const start = written;
            const next = decodeBase64(source, at, end, this.bytes, written);
            this.starts[this.tokens] = start;
            this.starts[this.tokens + 1] = next;
            // The same bytes again take the later rank, as in js-tiktoken's map.
            const known = this.insert(this.tokens);
            if (known < 0) {
              this.ranksOf[this.tokens++] = rank;
              written = next;
            } else this.ranksOf[known] = rank;
            rank++;
            if (++decoded % batchTokens === 0) yield;
          }
          at = end + 1;
        }
      }
      lineStart = lineEnd + 1;
    }
  }

  /** Adds token `index` to the hash table; -1, or the token with the same bytes already there. */
  private insert(index: number): number {
    const start = this.starts[index] ?? 0;
    const end = this.starts[index + 1] ?? 0;
    let slot = hash(this.bytes, start, end) & this.mask;
    for (;;) {
      const held = this.slots[slot] ?? 0;
      if (held === 0) {
        this.slots[slot] = index + 1;
        return -1;
      }
      if (this.equals(held - 1, this.bytes, start, end)) return held - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  private equals(token: number, bytes: Uint8Array, start: number, end: number): boolean {
    const from = this.starts[token] ?? 0;
    if ((this.starts[token + 1] ?? 0) - from !== end - start) return false;
    for (let i = 0; i < end - start; i++) if (this.bytes[from + i] !== bytes[start + i]) return false;
    return true;
  }

  /** Whether `bytes[start..end)` is a token. */
  private has(bytes: Uint8Array, start: number, end: number): boolean {
    let slot = hash(bytes, start, end) & this.mask;
    for (;;) {
      const held = this.slots[slot] ?? 0;
      if (held === 0) return false;
      if (this.equals(held - 1, bytes, start, end)) return true;
      slot = (slot + 1) & this.mask;
    }
  }

  /** js-tiktoken's `encode(text, "all").length`: special tokens count one each, the rest by BPE. */
  count(text: string): number {
    while (!this.build());
    let total = 0;
    let start = 0;
    this.specials.lastIndex = 0;
    for (const special of text.matchAll(this.specials)) {
      total += this.countOrdinary(text.slice(start, special.index)) + 1;
      start = special.index + special[0].length;
    }
    return total + this.countOrdinary(start === 0 ? text : text.slice(start));
  }

  private countOrdinary(text: string): number {
    let total = 0;
    for (const match of text.matchAll(this.pieces)) total += this.countPiece(match[0]);
    return total;
  }

  /**
   * js-tiktoken's byte-pair merge, counted: while two neighbouring parts join into a token, join
   * the pair whose joined bytes rank lowest (leftmost on a tie). Every single byte is a token, so
   * the count is the number of parts left. Ranks only order merges; ranks of joined parts are
   * found again by lookup, as js-tiktoken does.
   */
  private countPiece(piece: string): number {
    if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 3);
    const bytes = this.scratch;
    const length = this.encoder.encodeInto(piece, bytes).written;
    if (length <= 1 || this.has(bytes, 0, length)) return 1;
    // bounds[k] is where part k starts; bounds[parts] = length.
    const bounds = new Int32Array(length + 1);
    for (let i = 0; i <= length; i++) bounds[i] = i;
    let parts = length;
    while (parts > 1) {
      let best = -1;
      let bestRank = 0;
      for (let i = 0; i < parts - 1; i++) {
        const rank = this.rankOf(bytes, bounds[i] ?? 0, bounds[i + 2] ?? 0);
        if (rank >= 0 && (best < 0 || rank < bestRank)) {
          best = i;
          bestRank = rank;
        }
      }
      if (best < 0) break;
      bounds.copyWithin(best + 1, best + 2, parts + 1);
      parts--;
    }
    return parts;
  }

  private rankOf(bytes: Uint8Array, start: number, end: number): number {
    let slot = hash(bytes, start, end) & this.mask;
    for (;;) {
      const held = this.slots[slot] ?? 0;
      if (held === 0) return -1;
      if (this.equals(held - 1, bytes, start, end)) return this.ranksOf[held - 1] ?? -1;
      slot = (slot + 1) & this.mask;
    }
  }
}

/** Tokens decoded between two turns of the event loop (~1 ms once compiled). */
const batchTokens = 4096;

/** FNV-1a over bytes[start..end). */
function hash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] ?? 0), 0x01000193);
  return h >>> 0;
}

const base64Values = (() => {
  const values = new Int8Array(128).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

/** Decodes source[start..end) (base64, maybe padded) into out at `at`; returns the end written. */
function decodeBase64(source: string, start: number, end: number, out: Uint8Array, at: number): number {
  let bits = 0;
  let held = 0;
  for (let i = start; i < end; i++) {
    const value = base64Values[source.charCodeAt(i)] ?? -1;
    if (value < 0) break;
    bits = (bits << 6) | value;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[at++] = (bits >> held) & 0xff;
    }
  }
  return at;
}
