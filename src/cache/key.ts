import type { MessagesRequest } from "../anthropic/schema.ts";

// What decides an answer: the model, system prompt, conversation, tools and sampling settings.
// Not `stream` (a hit is replayed either way) nor `metadata` (it carries per-session ids).
const keyFields = [
  "model",
  "system",
  "messages",
  "tools",
  "tool_choice",
  "max_tokens",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "thinking",
  "output_config",
  "context_management",
] as const;

/**
 * What keeps apart answers that must not be shared: the client's gateway key (by name), the
 * provider and model override, and what a client sends beside the body that an upstream acts
 * on: the credential it may forward (in pass-through a bogus or revoked key must not be served a
 * good key's answer), `anthropic-beta` (features) and the query string. The credential enters
 * as a hash, so the cache never holds it.
 */
export function promptScope(parts: { client: string; provider: string; model: string; headers: Headers; search: string }): string {
  const { headers } = parts;
  const credential = new Bun.CryptoHasher("sha256")
    .update(`${headers.get("x-api-key") ?? ""}\u0000${headers.get("authorization") ?? ""}`)
    .digest("hex");
  return [parts.client, parts.provider, parts.model, credential, headers.get("anthropic-beta") ?? "", parts.search].join("\u0000");
}

/**
 * A request's identity for the prompt cache, with `scope` keeping apart answers that must not be
 * shared (another client key, another provider or model override).
 *
 * Given the body as the client sent it, both the fingerprint and the key are taken over those
 * bytes less the top-level `metadata` and `stream` members: serializing a 50 KB Claude Code
 * request again costs ~80 µs, hashing its bytes ~4 µs (CRC-32) or ~35 µs (SHA-256). Each member
 * is cut where its compact serialization occurs; where it does not (or without the text) both are
 * taken over the fields above, serialized in a fixed order. The two forms are tagged, so they can
 * only ever miss each other, never collide.
 */
export class PromptKey {
  private readonly head: string;
  /** What is hashed: `head`, then `text` less the spans in `cuts` (flat [start, end) pairs, in order). */
  private text: string;
  private readonly cuts: number[];
  private crc: number | undefined;
  private sha: string | undefined;

  constructor(request: MessagesRequest, scope: string, clientBody?: string) {
    const cuts = clientBody === undefined ? undefined : volatileMembers(clientBody, request);
    if (clientBody !== undefined && cuts !== undefined) {
      this.head = `${scope}\u0000sent\u0000`;
      this.text = clientBody;
      this.cuts = cuts;
    } else {
      const record = request as Record<string, unknown>;
      const canonical: unknown[] = [];
      for (const field of keyFields) canonical.push(record[field] ?? null);
      this.head = `${scope}\u0000fields\u0000`;
      this.text = JSON.stringify(canonical);
      this.cuts = [];
    }
  }

  /** The hashed text, piece by piece. */
  private pieces(): string[] {
    const { head, text, cuts } = this;
    const out = [head];
    let from = 0;
    for (let i = 0; i < cuts.length; i += 2) {
      out.push(text.substring(from, cuts[i]));
      from = cuts[i + 1] ?? text.length;
    }
    out.push(from === 0 ? text : text.substring(from));
    return out;
  }

  /**
   * A short digest equal requests share, as a number (a cheap map key): a fingerprint the cache
   * never stored proves a miss without paying for SHA-256, which is the common case (a new turn).
   * CRC-32 continues across pieces exactly as over their concatenation, so where the cuts fell
   * does not matter; with the length, a false match (which SHA-256 then rejects) is rare.
   */
  fingerprint(): number {
    if (this.crc === undefined) {
      let crc = 0;
      let length = 0;
      for (const piece of this.pieces()) {
        crc = Bun.hash.crc32(piece, crc);
        length += piece.length;
      }
      // 32 bits of CRC and 21 of length: exact in a double.
      this.crc = crc * 0x200000 + (length % 0x200000);
    }
    return this.crc;
  }

  /** SHA-256, hex: the cache's key. */
  key(): string {
    if (this.sha === undefined) {
      const hasher = new Bun.CryptoHasher("sha256");
      for (const piece of this.pieces()) hasher.update(piece);
      this.sha = hasher.digest("hex");
      this.fingerprint();
      // A stored entry keeps its key, not its request's body.
      this.text = "";
    }
    return this.sha;
  }
}

/**
 * Where the top-level `metadata` and `stream` members sit in the body, as flat [start, end)
 * pairs in order, each cut with one neighbouring comma so that a body without the member reads
 * the same; undefined if either is not there as its compact serialization.
 */
function volatileMembers(text: string, request: MessagesRequest): number[] | undefined {
  // Top-level members come after the conversation in the bodies clients send: search from the
  // end. Cutting a nested look-alike instead could only make two requests differ, never alike.
  let metadata = -1;
  let metadataEnd = -1;
  if (request.metadata !== undefined) {
    const member = `"metadata":${JSON.stringify(request.metadata)}`;
    metadata = text.lastIndexOf(member);
    if (metadata < 0) return undefined;
    metadataEnd = metadata + member.length;
  }
  let stream = -1;
  let streamEnd = -1;
  if (request.stream !== undefined) {
    const member = request.stream ? '"stream":true' : '"stream":false';
    stream = text.lastIndexOf(member);
    if (stream < 0) return undefined;
    streamEnd = stream + member.length;
  }
  const spans: number[] = [];
  if (metadata >= 0 && stream >= 0) {
    const [a, aEnd, b, bEnd] = metadata < stream ? [metadata, metadataEnd, stream, streamEnd] : [stream, streamEnd, metadata, metadataEnd];
    // Neighbours (`"metadata":…,"stream":true`) are one cut.
    if (b === aEnd + 1 && text[aEnd] === ",") spans.push(a, bEnd);
    else spans.push(a, aEnd, b, bEnd);
  } else if (metadata >= 0) spans.push(metadata, metadataEnd);
  else if (stream >= 0) spans.push(stream, streamEnd);
  for (let i = 0; i < spans.length; i += 2) {
    const at = spans[i] as number;
    const end = spans[i + 1] as number;
    if (text[end] === ",") spans[i + 1] = end + 1;
    else if (text[at - 1] === ",") spans[i] = at - 1;
  }
  return spans;
}
