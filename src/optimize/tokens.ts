import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import { isKnown, isKnownBlock, type ContentBlockParam, type CountTokensRequest, type ToolResultContentBlock } from "../anthropic/schema.ts";

// Local token counts, for upstreams without a count endpoint. cl100k is not Claude's tokenizer:
// for English prose and code it lands within about 10-15% of Anthropic's own count (see README).

let encoder: Tiktoken | undefined;
function tokenizer(): Tiktoken {
  encoder ??= new Tiktoken(cl100k);
  return encoder;
}

/**
 * Builds the tokenizer now: reading cl100k's ranks holds the event loop ~0.4 s (more on a busy
 * machine), which the first request that counts, and every stream and probe beside it, would
 * otherwise wait for.
 */
export function warmTokenizer(): void {
  tokenizer();
}

/**
 * js-tiktoken's BPE merge is quadratic (worse, in practice) in the length of one pre-tokenized
 * piece: 20,000 `=` took 28 s, holding the event loop, and even 32-character parts of a long run
 * cost ~0.25 ms each. A piece is long only where it holds a long run of letters, of punctuation
 * or of whitespace; no real word is that long, so such a run is estimated (`runCharsPerToken`)
 * instead of merged, and counting stays linear in the text.
 */
const longRunChars = 32;
const runCharsPerToken = 4;
const longRun = new RegExp(`[^\\s\\p{L}\\p{N}]{${longRunChars + 1},}|\\p{L}{${longRunChars + 1},}|\\s{${longRunChars + 1},}`, "gu");

export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  let total = 0;
  let from = 0;
  for (const match of text.matchAll(longRun)) {
    total += encodedLength(text.slice(from, match.index)) + Math.ceil(match[0].length / runCharsPerToken);
    from = match.index + match[0].length;
  }
  return total + encodedLength(from === 0 ? text : text.slice(from));
}

function encodedLength(text: string): number {
  return text.length === 0 ? 0 : tokenizer().encode(text, "all").length;
}

// Anthropic bills a ~1.15-megapixel image at about 1,600 tokens; without decoding the image
// its size is unknown, so every image is counted at that ceiling.
const imageTokens = 1600;
// Per-message framing (role markers) and the preamble Anthropic adds when tools are present.
const perMessageTokens = 3;
const toolPreambleTokens = 346;

/** The text a block is counted by, and the tokens counted apart from text (images, documents). */
export function countedText(block: ContentBlockParam | ToolResultContentBlock): { text: string; extra: number } {
  if (!isKnownBlock(block)) return { text: JSON.stringify(block), extra: 0 };
  switch (block.type) {
    case "text":
      return { text: block.text, extra: 0 };
    case "thinking":
      return { text: block.thinking, extra: 0 };
    case "tool_use":
      return { text: `${block.name} ${JSON.stringify(block.input ?? {})}`, extra: 0 };
    case "tool_result": {
      const content = block.content;
      if (typeof content === "string") return { text: content, extra: 0 };
      let text = "";
      let extra = 0;
      for (const part of content ?? []) {
        const inner = countedText(part);
        text += `${inner.text}\n`;
        extra += inner.extra;
      }
      return { text, extra };
    }
    case "image":
      return { text: "", extra: imageTokens };
    case "document": {
      const source = block.source;
      const bytes = isKnown(source, ["base64", "text"] as const) ? (source.data.length * 3) / 4 : 0;
      return { text: "", extra: Math.ceil(bytes / 4) };
    }
    case "redacted_thinking":
      return { text: JSON.stringify(block), extra: 0 };
  }
}

// Routing, the provider and usage may each need one request's count: it is counted once.
const counted = new WeakMap<CountTokensRequest, number>();

export function countRequestTokens(request: CountTokensRequest): number {
  let total = counted.get(request);
  if (total === undefined) {
    total = countUncached(request);
    counted.set(request, total);
  }
  return total;
}

/**
 * The request's count, where its body (`bodyBytes`) may hold more than `limit` tokens; else
 * undefined, without counting. Counting costs ~0.25 ms per KB, and text and code run 3.5-4.5
 * bytes per token: a body under 2.7 bytes per token of the limit clearly stays within it.
 */
export function countIfNear(request: CountTokensRequest, bodyBytes: number, limit: number): number | undefined {
  return bodyBytes / 2.7 > limit ? countRequestTokens(request) : undefined;
}

/**
 * Characters of one request counted exactly; the rest is estimated at the tokens-per-character
 * rate of what was counted. Even linear, js-tiktoken runs 0.25 ms per KB of prose and up to ~2 ms
 * per KB of text built to be slow (`\\n\\n…`: a piece per two characters); this bounds one
 * request's hold on the event loop to ~16 ms for real text and ~130 ms at worst, while a real
 * Claude Code request (~50 KB) is still counted exactly.
 */
const exactCharsPerRequest = 64 * 1024;
/** The rate before anything was counted: English and code run about four characters a token. */
const defaultTokensPerChar = 0.25;

class RequestCounter {
  total = 0;
  private left = exactCharsPerRequest;
  private exactChars = 0;
  private exactTokens = 0;

  add(text: string, extra = 0): void {
    this.total += extra;
    if (text.length === 0) return;
    const head = text.length <= this.left ? text : text.slice(0, this.left);
    if (head.length > 0) {
      const tokens = countTextTokens(head);
      this.left -= head.length;
      this.exactChars += head.length;
      this.exactTokens += tokens;
      this.total += tokens;
    }
    const rest = text.length - head.length;
    if (rest > 0) {
      const rate = this.exactChars >= 1024 ? this.exactTokens / this.exactChars : defaultTokensPerChar;
      this.total += Math.ceil(rest * rate);
    }
  }
}

function countUncached(request: CountTokensRequest): number {
  const counter = new RequestCounter();
  if (typeof request.system === "string") counter.add(request.system);
  else for (const block of request.system ?? []) counter.add(block.text);
  for (const message of request.messages) {
    counter.add("", perMessageTokens);
    if (typeof message.content === "string") {
      counter.add(message.content);
      continue;
    }
    for (const block of message.content) {
      const { text, extra } = countedText(block);
      counter.add(text, extra);
    }
  }
  if (request.tools && request.tools.length > 0) {
    counter.add("", toolPreambleTokens);
    for (const tool of request.tools) {
      counter.add(`${tool.name} ${tool.description ?? ""} ${JSON.stringify(tool.input_schema ?? {})}`);
    }
  }
  return counter.total;
}
