import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";

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

const encoders = new Map<EncodingName, Tiktoken>();

/** One encoder per encoding, built on first use (each holds its rank table, several MB). */
export function encoder(name: EncodingName): Tiktoken {
  let found = encoders.get(name);
  if (!found) {
    found = new Tiktoken(name === "o200k_base" ? o200k : cl100k);
    encoders.set(name, found);
  }
  return found;
}

/**
 * The encoding's pre-tokenizer and special tokens: js-tiktoken merges each regex piece alone
 * and each special token is one token, so text cut at a piece boundary outside a special token
 * encodes to the same count in parts as whole (tokens.ts slices long text that way).
 */
export function splitter(name: EncodingName): { pieces: RegExp; specials: readonly string[] } {
  const ranks = name === "o200k_base" ? o200k : cl100k;
  return { pieces: new RegExp(ranks.pat_str, "gu"), specials: Object.keys(ranks.special_tokens) };
}
