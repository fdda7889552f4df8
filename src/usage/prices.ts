import type { Price, PriceTable } from "../config/sections/prices.ts";

// List prices in US dollars per million tokens. A model matches the longest entry its name starts
// with, after any `vendor/` prefix (OpenRouter) or `<platform>-` prefix (Databricks endpoints).
// Local runtimes cost nothing; a model found nowhere has no price and no cost (it is not counted
// against money budgets, and logs show it as unpriced).

const anthropic = (input: number, output: number): Price => ({ input, output, cacheRead: input / 10, cacheWrite: input * 1.25 });
const openai = (input: number, output: number, cacheRead: number): Price => ({ input, output, cacheRead, cacheWrite: input });

export const defaultPrices: PriceTable = {
  "claude-fable-5": anthropic(10, 50),
  // Opus 5.5 reads from the prompt cache at 0.05x its input price, not the usual 0.1x.
  "claude-opus-5-5": { ...anthropic(4, 20), cacheRead: 0.2 },
  "claude-opus-5": anthropic(5, 25),
  "claude-sonnet-5": anthropic(2, 10),
  "claude-opus-4-5": anthropic(5, 25),
  "claude-opus-4-1": anthropic(15, 75),
  "claude-opus-4": anthropic(15, 75),
  "claude-sonnet-4": anthropic(3, 15),
  "claude-haiku-4-5": anthropic(1, 5),
  "claude-3-7-sonnet": anthropic(3, 15),
  "claude-3-5-sonnet": anthropic(3, 15),
  "claude-3-5-haiku": anthropic(0.8, 4),
  "claude-3-opus": anthropic(15, 75),
  "claude-3-haiku": anthropic(0.25, 1.25),
  "gpt-5": openai(1.25, 10, 0.125),
  "gpt-5-mini": openai(0.25, 2, 0.025),
  "gpt-5-nano": openai(0.05, 0.4, 0.005),
  "gpt-4.1": openai(2, 8, 0.5),
  "gpt-4.1-mini": openai(0.4, 1.6, 0.1),
  "gpt-4.1-nano": openai(0.1, 0.4, 0.025),
  "gpt-4o": openai(2.5, 10, 1.25),
  "gpt-4o-mini": openai(0.15, 0.6, 0.075),
  o3: openai(2, 8, 0.5),
  "o4-mini": openai(1.1, 4.4, 0.275),
};

/** Providers whose models run on the user's own hardware. */
const localKinds = new Set(["ollama", "llamacpp"]);

export interface PriceLookup {
  price: Price | undefined;
  /** Which table entry matched, for logs. */
  entry: string | undefined;
}

export class Prices {
  private readonly keys: string[];
  private readonly memo = new Map<string, PriceLookup>();

  constructor(private readonly table: PriceTable) {
    // Longest first, so gpt-4o-mini wins over gpt-4o.
    this.keys = Object.keys(table).sort((a, b) => b.length - a.length);
  }

  lookup(providerKind: string, model: string | undefined): PriceLookup {
    if (localKinds.has(providerKind)) return { price: { input: 0, output: 0 }, entry: providerKind };
    if (!model) return { price: undefined, entry: undefined };
    let found = this.memo.get(model);
    if (found) return found;
    const name = model.toLowerCase().slice(model.lastIndexOf("/") + 1);
    const key = this.keys.find((k) => name === k || name.startsWith(`${k}-`) || name.startsWith(`${k}@`) || name.startsWith(`${k}[`) || name.includes(`-${k}`));
    found = { price: key ? this.table[key] : undefined, entry: key };
    if (this.memo.size < 10_000) this.memo.set(model, found);
    return found;
  }
}

export interface TokenCounts {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** Dollars for the given usage, or undefined when the model has no price. */
export function costOf(price: Price | undefined, usage: TokenCounts): number | undefined {
  if (!price) return undefined;
  const micro =
    usage.input_tokens * price.input +
    usage.output_tokens * price.output +
    usage.cache_read_input_tokens * (price.cacheRead ?? price.input) +
    usage.cache_creation_input_tokens * (price.cacheWrite ?? price.input);
  return micro / 1_000_000;
}
