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

/** JSON with object keys sorted at every level, so key order never changes the hash. */
function canonical(value: unknown, out: string[]): void {
  if (value === null || typeof value !== "object") {
    out.push(JSON.stringify(value) ?? "null");
    return;
  }
  if (Array.isArray(value)) {
    out.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(",");
      canonical(value[i], out);
    }
    out.push("]");
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  out.push("{");
  let first = true;
  for (const key of keys) {
    if (record[key] === undefined) continue;
    if (!first) out.push(",");
    first = false;
    out.push(JSON.stringify(key), ":");
    canonical(record[key], out);
  }
  out.push("}");
}

/**
 * SHA-256 over the canonical request. `scope` keeps answers apart that must not be shared
 * (another client key, another provider or model override).
 */
export function promptCacheKey(request: MessagesRequest, scope: string): string {
  const out: string[] = [JSON.stringify(scope), "\n"];
  const record = request as Record<string, unknown>;
  for (const field of keyFields) {
    out.push(field, "=");
    canonical(record[field], out);
    out.push("\n");
  }
  return new Bun.CryptoHasher("sha256").update(out.join("")).digest("hex");
}
