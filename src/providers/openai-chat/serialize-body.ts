import type { ChatRequest } from "./request.ts";

const encoder = new TextEncoder();

/**
 * The body as it goes on the wire: the UTF-8 bytes of JSON.stringify(body), exactly. Where its
 * tools are a set converted before (tool-set-cache.ts), their bytes are copied in (`toolsJson`,
 * already UTF-8) instead of serialized and encoded again: the members before and after them are
 * serialized as JSON.stringify writes a plain object's (in order, undefined ones left out).
 * Bytes, not text: fetch sends them as they are, and their length is the body's size.
 */
export function serializeChatBody(body: ChatRequest, toolsJson: Uint8Array | undefined): Uint8Array {
  if (toolsJson === undefined || body.tools === undefined) return encoder.encode(JSON.stringify(body));
  const record = body as unknown as Record<string, unknown>;
  const before: string[] = [];
  const after: string[] = [];
  let side = before;
  for (const key of Object.keys(record)) {
    if (key === "tools") {
      side = after;
      continue;
    }
    const json = JSON.stringify(record[key]);
    if (json !== undefined) side.push(`${JSON.stringify(key)}:${json}`);
  }
  const head = encoder.encode(`{${before.map((member) => `${member},`).join("")}"tools":`);
  const tail = encoder.encode(`${after.map((member) => `,${member}`).join("")}}`);
  const out = new Uint8Array(head.length + toolsJson.length + tail.length);
  out.set(head, 0);
  out.set(toolsJson, head.length);
  out.set(tail, head.length + toolsJson.length);
  return out;
}
