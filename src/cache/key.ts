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
 * SHA-256 over what decides the answer, with `scope` keeping apart answers that must not be
 * shared (another client key, another provider or model override).
 *
 * Given the body as the client sent it, the key is taken over those bytes less the top-level
 * `metadata` and `stream` members: serializing a 50 KB Claude Code request again costs ~80 µs,
 * hashing its bytes ~30 µs. Each member is cut only where its exact serialization occurs once;
 * otherwise (or without the text) the key is taken over the fields above, serialized in a fixed
 * order. Both forms are tagged, so they can only ever miss each other, never collide.
 */
export function promptCacheKey(request: MessagesRequest, scope: string, clientBody?: string): string {
  const hasher = new Bun.CryptoHasher("sha256").update(scope).update("\u0000");
  const cuts = clientBody === undefined ? undefined : volatileMembers(clientBody, request);
  if (clientBody !== undefined && cuts !== undefined) {
    // The kept pieces go to the hasher one by one: no 50 KB copy of the body is made.
    hasher.update("sent\u0000");
    let from = 0;
    for (const [start, end] of cuts) {
      hasher.update(clientBody.substring(from, start));
      from = end;
    }
    return hasher.update(clientBody.substring(from)).digest("hex");
  }
  const record = request as Record<string, unknown>;
  const canonical: unknown[] = [];
  for (const field of keyFields) canonical.push(record[field] ?? null);
  return hasher.update("fields\u0000").update(JSON.stringify(canonical)).digest("hex");
}

/**
 * Where the top-level `metadata` and `stream` members sit in the body, in order, each cut with
 * one neighbouring comma so that a body without the member reads the same; undefined if either
 * can't be found exactly once.
 */
function volatileMembers(text: string, request: MessagesRequest): [number, number][] | undefined {
  const spans: [number, number][] = [];
  for (const [name, value] of [
    ["metadata", request.metadata],
    ["stream", request.stream],
  ] as const) {
    if (value === undefined) continue;
    const member = `"${name}":${JSON.stringify(value)}`;
    const at = text.indexOf(member);
    if (at < 0 || text.indexOf(member, at + 1) >= 0) return undefined;
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

/**
 * A cheap 64-bit fingerprint of the parts that change from turn to turn (model, conversation
 * length, its last message, sampling size, tool count). Equal requests have equal
 * fingerprints, so a fingerprint the cache has never stored proves a miss without paying for
 * the full key: the common case (a new turn) costs microseconds, not a pass over 50 KB.
 */
export function promptFingerprint(request: MessagesRequest, scope: string): string {
  const last = request.messages.at(-1);
  const system = typeof request.system === "string" ? request.system.length : (request.system?.length ?? 0);
  const shape = [scope, request.model, request.messages.length, request.max_tokens, request.tools?.length ?? 0, system, last];
  return Bun.hash(JSON.stringify(shape)).toString(36);
}
