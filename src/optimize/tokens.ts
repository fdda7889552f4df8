import { isKnown, isKnownBlock, type ContentBlockParam, type CountTokensRequest, type ToolResultContentBlock } from "../anthropic/schema.ts";
import { calibrated, observePromptCount, warmingUp } from "./calibration.ts";
import { encoderBuilt, encoderReady, encodingFor, splitter, type EncodingName } from "./encodings.ts";
import { pieceCounts, type Counting } from "./piece-counts.ts";

// Local token counts, for upstreams without a count endpoint, in the tokenizer of the model's
// family (encodings.ts), scaled by what the upstream itself reported for that model
// (calibration.ts). Without a model: cl100k, which is not Claude's tokenizer but lands within
// about 10-15% of Anthropic's own count for English prose and code (see README).

/**
 * Builds the model's tokenizer in the background, a batch (~1 ms) per turn of the event loop:
 * built in one go it holds the loop ~30-60 ms (js-tiktoken's took ~0.4 s), which the first
 * request that counts, and every stream and probe beside it, would otherwise wait for. A count
 * that comes first builds what is left itself: sliced counts in slices, synchronous ones at once.
 */
export function warmTokenizer(model?: string): Promise<void> {
  const encoding = encodingFor(model);
  let building = warming.get(encoding);
  if (!building) {
    building = runSliced(encoderReady(encoding)).then(() => undefined);
    warming.set(encoding, building);
  }
  return building;
}

const warming = new Map<EncodingName, Promise<void>>();

/**
 * js-tiktoken's BPE merge is quadratic (worse, in practice) in the UTF-8 length of one
 * pre-tokenized piece: 20,000 `=` took 28 s, holding the event loop, and even 32-byte parts of a
 * long run cost ~0.25 ms each; a piece of 32 emoji (128 bytes) costs ~1 ms, so 64 KB of them
 * held the loop 1.5-2.5 s, and Chinese prose (a piece per clause, 3 bytes a character) ~3 s. A
 * piece is long only where it holds a long run of letters, of punctuation or of whitespace; a run
 * longer than `longRunBytes` is estimated (`runBytesPerToken`) instead of merged, so no piece
 * merged exactly is longer than 32 bytes and counting stays linear in the text. English words
 * and code identifiers are never that long; CJK clauses of 11 characters and more are estimated.
 */
const longRunBytes = 32;
const runBytesPerToken = 4;
// The shortest run that can pass `longRunBytes` (nine 4-byte characters); each is then measured.
const maybeLongRun = new RegExp(`[^\\s\\p{L}\\p{N}]{9,}|\\p{L}{9,}|\\s{9,}`, "gu");

export function countTextTokens(text: string, encoding: EncodingName = "cl100k_base"): number {
  return runToEnd(textTokens(text, encoding));
}

// Counting is a generator that pauses after each slice of at most `sliceChars` encoded
// characters (~0.25 ms of prose, ~2 ms of text built to be slow): synchronous callers run it to
// the end, async callers give the event loop its turn between slices (`countRequestTokensSliced`).

function* textTokens(text: string, encoding: EncodingName): Counting {
  let total = 0;
  let from = 0;
  for (const match of text.matchAll(maybeLongRun)) {
    const run = match[0];
    const bytes = run.length > longRunBytes ? Buffer.byteLength(run) : utf8Length(run);
    if (bytes <= longRunBytes) continue;
    total += yield* encodedLength(text.slice(from, match.index), encoding);
    total += Math.ceil(bytes / runBytesPerToken);
    from = match.index + run.length;
  }
  return total + (yield* encodedLength(from === 0 ? text : text.slice(from), encoding));
}

/** UTF-8 length of a short string, without the cost of a native call per English word. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A surrogate pair (4 bytes) is two code units of 2 each.
    bytes += code < 0x80 ? 1 : code < 0x800 || (code >= 0xd800 && code < 0xe000) ? 2 : 3;
  }
  return bytes;
}

const sliceChars = 512;

function* encodedLength(text: string, encoding: EncodingName): Counting {
  const counter = yield* encoderReady(encoding);
  let total = 0;
  for (const slice of slices(text, encoding)) {
    total += counter.count(slice);
    yield;
  }
  return total;
}

/**
 * `text` in parts of about `sliceChars`, cut only where the encoder's own pre-tokenizer ends a
 * piece, outside special tokens: js-tiktoken merges each piece alone and its one lookahead
 * (`\s+(?!\S)`) ends a piece at the same place whether the text goes on or stops there, so the
 * parts encode to exactly the whole's count.
 */
function* slices(text: string, encoding: EncodingName): Generator<string> {
  if (text.length <= sliceChars) {
    if (text.length > 0) yield text;
    return;
  }
  const { pieces, specials } = splitters(encoding);
  let segment = 0;
  for (const special of text.matchAll(specials)) {
    yield* segmentSlices(text, segment, special.index, pieces);
    yield special[0];
    segment = special.index + special[0].length;
  }
  yield* segmentSlices(text, segment, text.length, pieces);
}

function* segmentSlices(text: string, from: number, to: number, pieces: RegExp): Generator<string> {
  const segment = from === 0 && to === text.length ? text : text.slice(from, to);
  let start = 0;
  for (const piece of segment.matchAll(pieces)) {
    if (piece.index - start >= sliceChars) {
      yield segment.slice(start, piece.index);
      start = piece.index;
    }
  }
  if (start < segment.length) yield segment.slice(start);
}

const splitterCache = new Map<EncodingName, { pieces: RegExp; specials: RegExp }>();

function splitters(encoding: EncodingName): { pieces: RegExp; specials: RegExp } {
  let found = splitterCache.get(encoding);
  if (!found) {
    const { pieces, specials } = splitter(encoding);
    const escaped = specials.map((token) => token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    found = { pieces, specials: new RegExp(escaped.join("|"), "g") };
    splitterCache.set(encoding, found);
  }
  return found;
}

function runToEnd<T>(counting: Generator<void, T, void>): T {
  for (;;) {
    const step = counting.next();
    if (step.done) return step.value;
  }
}

/** Longest hold on the event loop between yields of a sliced count. */
const sliceMs = 3;
/**
 * Most steps (slices of text, batches of a tokenizer's table) between yields, however fast they
 * ran: a long count gives the loop its turns on a fast machine too, not only where a step is slow.
 */
const stepsPerYield = 64;

async function runSliced<T>(counting: Generator<void, T, void>): Promise<T> {
  let sliceStart = performance.now();
  let steps = 0;
  for (;;) {
    const step = counting.next();
    if (step.done) return step.value;
    if (++steps >= stepsPerYield || performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
      steps = 0;
    }
  }
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
  const known = counted.get(request)?.get(encoding);
  if (known !== undefined) return known;
  return remember(request, encoding, runToEnd(requestTokens(request, encoding)));
}

/** `localRequestTokens`, never holding the event loop longer than a slice (~3 ms) at a time. */
export async function localRequestTokensSliced(request: CountTokensRequest, encoding: EncodingName): Promise<number> {
  const known = counted.get(request)?.get(encoding);
  if (known !== undefined) return known;
  return remember(request, encoding, await runSliced(requestTokens(request, encoding)));
}

function remember(request: CountTokensRequest, encoding: EncodingName, total: number): number {
  let byEncoding = counted.get(request);
  if (!byEncoding) counted.set(request, (byEncoding = new Map()));
  byEncoding.set(encoding, total);
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

/** `countRequestTokens` for async callers: the same count, yielding to the event loop between slices. */
export async function countRequestTokensSliced(request: CountTokensRequest, model?: string): Promise<number> {
  return calibrated(model, await localRequestTokensSliced(request, encodingFor(model)));
}

/**
 * Feeds the prompt count an upstream reported for `request` into `model`'s calibration. Counts
 * locally only while the model's ratio is settling or when the request was counted anyway (near
 * a limit): counting a long request costs milliseconds, and most requests need no count.
 */
export function calibrateFromUsage(model: string, request: CountTokensRequest, reported: number): void {
  const encoding = encodingFor(model);
  if (isCounted(request, encoding)) return observePromptCount(model, localRequestTokens(request, encoding), reported);
  if (!warmingUp(model)) return;
  // Not before the tokenizer is built (in the background from here): building it in one go would
  // hold the event loop ~30-60 ms, and one sample less only makes the ratio settle an answer later.
  if (!encoderBuilt(encoding)) return void warmTokenizer(model);
  observePromptCount(model, localRequestTokens(request, encoding), reported);
}

/**
 * The request's count, where its body (`bodyBytes`) may hold more than `limit` tokens; else
 * undefined, without counting. Counting costs ~0.25 ms per KB, and text and code run 3.5-4.5
 * bytes per token: a body under 2.7 bytes per token of the limit clearly stays within it.
 */
export function countIfNear(request: CountTokensRequest, bodyBytes: number, limit: number, model?: string): number | undefined {
  return isNear(bodyBytes, limit) ? countRequestTokens(request, model) : undefined;
}

/** `countIfNear` for async callers; counted ahead of a synchronous check, it makes that check free. */
export async function countIfNearSliced(request: CountTokensRequest, bodyBytes: number, limit: number, model?: string): Promise<number | undefined> {
  return isNear(bodyBytes, limit) ? await countRequestTokensSliced(request, model) : undefined;
}

function isNear(bodyBytes: number, limit: number): boolean {
  return bodyBytes / 2.7 > limit;
}

/**
 * Characters of one request counted exactly; the rest is estimated at the tokens-per-character
 * rate of what was counted. Even linear, js-tiktoken runs 0.25 ms per KB of prose and up to
 * ~0.6 ms per KB of text built to be slow (short pieces of mixed classes); this bounds what one
 * count costs to ~16 ms for real text and ~40 ms at worst (held in one go by synchronous callers,
 * in slices of ~3 ms by async ones), while a real Claude Code request (~50 KB) is still counted
 * exactly, and a later turn of its session costs the memo's lookups (piece-counts.ts).
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

  *add(text: string, extra = 0): Generator<void, void, void> {
    this.total += extra;
    if (text.length === 0) return;
    const head = text.length <= this.left ? text : text.slice(0, this.left);
    if (head.length > 0) {
      const tokens = yield* pieceCounts.count(head, this.encoding, textTokens);
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

function* requestTokens(request: CountTokensRequest, encoding: EncodingName): Counting {
  const counter = new RequestCounter(encoding);
  if (typeof request.system === "string") yield* counter.add(request.system);
  else for (const block of request.system ?? []) yield* counter.add(block.text);
  for (const message of request.messages) {
    yield* counter.add("", perMessageTokens);
    if (typeof message.content === "string") {
      yield* counter.add(message.content);
      continue;
    }
    for (const block of message.content) {
      const { text, extra } = countedText(block);
      yield* counter.add(text, extra);
    }
  }
  if (request.tools && request.tools.length > 0) {
    yield* counter.add("", toolPreambleTokens);
    for (const tool of request.tools) {
      yield* counter.add(`${tool.name} ${tool.description ?? ""} ${JSON.stringify(tool.input_schema ?? {})}`);
    }
  }
  return counter.total;
}
