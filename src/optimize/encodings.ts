import { BpeCounter, type RankFile } from "./bpe-counter.ts";

// Which BPE a model's family uses: o200k for gpt-4o, gpt-4.1, gpt-5, gpt-oss and the o-series,
// cl100k for older OpenAI models and as the stand-in for everything else (Claude, Llama, Qwen
// count within about 10-15% of it; per-model calibration closes the rest, see calibration.ts).

export type EncodingName = "o200k_base" | "cl100k_base";

const o200kModels = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|chatgpt-4o|o\d)/;

/** "openai/gpt-4o-mini", "azure/gpt-5" → the encoding of the model's family. */
export function encodingFor(model: string | undefined): EncodingName {
  if (model === undefined) return "cl100k_base";
  const name = model.toLowerCase().slice(model.lastIndexOf("/") + 1);
  return o200kModels.test(name) ? "o200k_base" : "cl100k_base";
}

/**
 * The encoding's rank file, loaded on first use: each is megabytes of source (o200k 2.3 MB)
 * that a gateway whose upstream counts for it never needs, and loading it costs start-up time.
 */
function ranksOf(name: EncodingName): RankFile {
  // require resolves the package's CommonJS build, whose module.exports is the rank file itself.
  const loaded: RankFile = name === "o200k_base" ? require("js-tiktoken/ranks/o200k_base") : require("js-tiktoken/ranks/cl100k_base");
  return loaded;
}

const counters = new Map<EncodingName, BpeCounter>();

/** One counter per encoding, its table built on first use (o200k ~6 MB; see bpe-counter.ts). */
export function encoder(name: EncodingName): BpeCounter {
  let found = counters.get(name);
  if (!found) {
    found = new BpeCounter(ranksOf(name));
    counters.set(name, found);
  }
  return found;
}

/** Whether the encoding's table is built (a count would not have to build it first). */
export function encoderBuilt(name: EncodingName): boolean {
  return counters.get(name)?.ready ?? false;
}

/** Builds the encoding's table a batch at a time, pausing between batches; ends once it is complete. */
export function* encoderReady(name: EncodingName): Generator<void, BpeCounter, void> {
  const counter = encoder(name);
  while (!counter.build()) yield;
  return counter;
}

/**
 * The encoding's pre-tokenizer and special tokens: js-tiktoken merges each regex piece alone
 * and each special token is one token, so text cut at a piece boundary outside a special token
 * encodes to the same count in parts as whole (tokens.ts slices long text that way).
 */
export function splitter(name: EncodingName): { pieces: RegExp; specials: readonly string[] } {
  const ranks = ranksOf(name);
  return { pieces: new RegExp(ranks.pat_str, "gu"), specials: Object.keys(ranks.special_tokens) };
}
