import { isKnown, isKnownBlock, type ContentBlockParam, type CountTokensRequest, type ToolResultContentBlock } from "../anthropic/schema.ts";
import { calibrated, observePromptCount, warmingUp } from "./calibration.ts";
import { encoder, encodingFor, type EncodingName } from "./encodings.ts";

// Local token counts, for upstreams without a count endpoint, in the tokenizer of the model's
// family (encodings.ts), scaled by what the upstream itself reported for that model
// (calibration.ts). Without a model: cl100k, which is not Claude's tokenizer but lands within
// about 10-15% of Anthropic's own count for English prose and code (see README).

/**
 * Builds the model's tokenizer now: reading its ranks holds the event loop ~0.4 s (more on a
 * busy machine), which the first request that counts, and every stream and probe beside it,
 * would otherwise wait for.
 */
export function warmTokenizer(model?: string): void {
  encoder(encodingFor(model));
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

export function countTextTokens(text: string, encoding: EncodingName = "cl100k_base"): number {
  if (text.length === 0) return 0;
  let total = 0;
  let from = 0;
  for (const match of text.matchAll(longRun)) {
    total += encodedLength(text.slice(from, match.index), encoding) + Math.ceil(match[0].length / runCharsPerToken);
    from = match.index + match[0].length;
  }
  return total + encodedLength(from === 0 ? text : text.slice(from), encoding);
}

function encodedLength(text: string, encoding: EncodingName): number {
  return text.length === 0 ? 0 : encoder(encoding).encode(text, "all").length;
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

// Routing, the provider and usage may each need one request's count: it is counted once per encoding.
const counted = new WeakMap<CountTokensRequest, Map<EncodingName, number>>();

/** The request's count in `encoding`, before calibration. */
export function localRequestTokens(request: CountTokensRequest, encoding: EncodingName): number {
  let byEncoding = counted.get(request);
  if (!byEncoding) counted.set(request, (byEncoding = new Map()));
  let total = byEncoding.get(encoding);
  if (total === undefined) {
    total = countUncached(request, encoding);
    byEncoding.set(encoding, total);
  }
  return total;
}

/** Whether the request was already counted in `encoding` (so counting it again is free). */
export function isCounted(request: CountTokensRequest, encoding: EncodingName): boolean {
  return counted.get(request)?.has(encoding) ?? false;
}

/** The request's count for `model`: its family's tokenizer, calibrated by its upstream's reports. */
export function countRequestTokens(request: CountTokensRequest, model?: string): number {
  return calibrated(model, localRequestTokens(request, encodingFor(model)));
}

/**
 * Feeds the prompt count an upstream reported for `request` into `model`'s calibration. Counts
 * locally only while the model's ratio is settling or when the request was counted anyway (near
 * a limit): counting a long request costs milliseconds, and most requests need no count.
 */
export function calibrateFromUsage(model: string, request: CountTokensRequest, reported: number): void {
  const encoding = encodingFor(model);
  if (!isCounted(request, encoding) && !warmingUp(model)) return;
  observePromptCount(model, localRequestTokens(request, encoding), reported);
}

/**
 * The request's count, where its body (`bodyBytes`) may hold more than `limit` tokens; else
 * undefined, without counting. Counting costs ~0.25 ms per KB, and text and code run 3.5-4.5
 * bytes per token: a body under 2.7 bytes per token of the limit clearly stays within it.
 */
export function countIfNear(request: CountTokensRequest, bodyBytes: number, limit: number, model?: string): number | undefined {
  return bodyBytes / 2.7 > limit ? countRequestTokens(request, model) : undefined;
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

  constructor(private readonly encoding: EncodingName) {}

  add(text: string, extra = 0): void {
    this.total += extra;
    if (text.length === 0) return;
    const head = text.length <= this.left ? text : text.slice(0, this.left);
    if (head.length > 0) {
      const tokens = countTextTokens(head, this.encoding);
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

function countUncached(request: CountTokensRequest, encoding: EncodingName): number {
  const counter = new RequestCounter(encoding);
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
