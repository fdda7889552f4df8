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
 * SHA-256 over the canonical request: the fields above in a fixed order, each as the schema
 * validated it (validation rebuilds objects with their known keys in schema order, so the
 * client's key order does not matter). `scope` keeps answers apart that must not be shared
 * (another client key, another provider or model override). Native JSON.stringify keeps this
 * near 0.1 ms for a 50 KB Claude Code request; a sorted-keys walk cost 2.5 times that.
 */
export function promptCacheKey(request: MessagesRequest, scope: string): string {
  const record = request as Record<string, unknown>;
  const canonical: unknown[] = [scope];
  for (const field of keyFields) canonical.push(record[field] ?? null);
  return new Bun.CryptoHasher("sha256").update(JSON.stringify(canonical)).digest("hex");
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
