import type { ChatRequest } from "./request.ts";

/**
 * JSON.stringify(body), byte for byte, with `tools` written as `toolsJson` (their serialization,
 * kept from an earlier request: tool-set-cache.ts) instead of serialized again. Members in the
 * body's own order, undefined ones left out, as JSON.stringify writes a plain object.
 */
export function serializeChatBody(body: ChatRequest, toolsJson: string | undefined): string {
  if (toolsJson === undefined || body.tools === undefined) return JSON.stringify(body);
  const record = body as unknown as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record)) {
    const json = key === "tools" ? toolsJson : JSON.stringify(record[key]);
    if (json !== undefined) members.push(`${JSON.stringify(key)}:${json}`);
  }
  // Joined, not concatenated: one flat string. A concatenation is a rope, and whatever reads it
  // first (Buffer.byteLength, fetch) pays far more to flatten it than the join does.
  return `{${members.join(",")}}`;
}
