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
  /** Released once the key is known, so a stored entry does not keep its request alive. */
  private pieces: string[];
  private crc: string | undefined;
  private sha: string | undefined;

  constructor(request: MessagesRequest, scope: string, clientBody?: string) {
    const cuts = clientBody === undefined ? undefined : volatileMembers(clientBody, request);
    if (clientBody !== undefined && cuts !== undefined) {
      this.pieces = [scope, "\u0000sent\u0000"];
      let from = 0;
      for (const [start, end] of cuts) {
        this.pieces.push(clientBody.substring(from, start));
        from = end;
      }
      this.pieces.push(clientBody.substring(from));
    } else {
      const record = request as Record<string, unknown>;
      const canonical: unknown[] = [];
      for (const field of keyFields) canonical.push(record[field] ?? null);
      this.pieces = [scope, "\u0000fields\u0000", JSON.stringify(canonical)];
    }
  }

  /**
   * A short digest equal requests share: a fingerprint the cache never stored proves a miss
   * without paying for SHA-256, which is the common case (a new turn).
   */
  fingerprint(): string {
    if (this.crc === undefined) {
      // CRC-32 continues across pieces exactly as over their concatenation, so where the cuts fell
      // does not matter; with the length, a false match (which SHA-256 then rejects) is rare.
      let crc = 0;
      let length = 0;
      for (const piece of this.pieces) {
        crc = Bun.hash.crc32(piece, crc);
        length += piece.length;
      }
      this.crc = `${crc.toString(36)}.${length.toString(36)}`;
    }
    return this.crc;
  }

  /** SHA-256, hex: the cache's key. */
  key(): string {
    if (this.sha === undefined) {
      const hasher = new Bun.CryptoHasher("sha256");
      for (const piece of this.pieces) hasher.update(piece);
      this.sha = hasher.digest("hex");
      this.fingerprint();
      this.pieces = [];
    }
    return this.sha;
  }
}

/**
 * Where the top-level `metadata` and `stream` members sit in the body, in order, each cut with
 * one neighbouring comma so that a body without the member reads the same; undefined if either
 * is not there as its compact serialization.
 */
function volatileMembers(text: string, request: MessagesRequest): [number, number][] | undefined {
  const spans: [number, number][] = [];
  for (const [name, value] of [
    ["metadata", request.metadata],
    ["stream", request.stream],
  ] as const) {
    if (value === undefined) continue;
    const member = `"${name}":${JSON.stringify(value)}`;
    // Top-level members come after the conversation in the bodies clients send: search from the
    // end. Cutting a nested look-alike instead could only make two requests differ, never alike.
    const at = text.lastIndexOf(member);
    if (at < 0) return undefined;
    spans.push([at, at + member.length]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  // Neighbours (`"metadata":…,"stream":true`) are one cut.
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && text.slice(last[1], span[0]) === ",") last[1] = span[1];
    else merged.push([span[0], span[1]]);
  }
  return merged.map(([at, end]) => {
    if (text[end] === ",") return [at, end + 1];
    if (text[at - 1] === ",") return [at - 1, end];
    return [at, end];
  });
}
