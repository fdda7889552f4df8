import { joinBytes } from "../join-bytes.ts";
import type { ChatRequest } from "./request.ts";

const encoder = new TextEncoder();

/** Parts of the body already serialized and encoded, kept from earlier requests. */
export interface KeptJson {
  /** JSON.stringify(body.tools) as UTF-8 (tool-set-cache.ts). */
  tools?: Uint8Array | undefined;
  /** Each of body.messages as JSON.stringify writes it in the array, as UTF-8 (message-json-cache.ts). */
  messages?: Uint8Array[] | undefined;
}

/**
 * The body as it goes on the wire: the UTF-8 bytes of JSON.stringify(body), exactly. What was
 * kept (`kept`) is copied in instead of serialized and encoded again; the other members are
 * serialized as JSON.stringify writes a plain object's (in order, undefined ones left out).
 * Bytes, not text: fetch sends them as they are, and their length is the body's size.
 */
export function serializeChatBody(body: ChatRequest, kept: KeptJson): Uint8Array {
  const tools = body.tools === undefined ? undefined : kept.tools;
  const messages = kept.messages?.length === body.messages.length ? kept.messages : undefined;
  if (tools === undefined && messages === undefined) return encoder.encode(JSON.stringify(body));
  const parts: Uint8Array[] = [];
  // Text between kept parts is gathered and encoded in one go.
  let text = "{";
  const flush = () => {
    parts.push(encoder.encode(text));
    text = "";
  };
  let first = true;
  for (const [key, value] of Object.entries(body)) {
    if (key === "tools" && tools !== undefined) {
      text += `${first ? "" : ","}"tools":`;
      flush();
      parts.push(tools);
    } else if (key === "messages" && messages !== undefined) {
      text += `${first ? "" : ","}"messages":[`;
      messages.forEach((message, i) => {
        if (i > 0) text += ",";
        flush();
        parts.push(message);
      });
      text += "]";
    } else {
      const json: string | undefined = JSON.stringify(value);
      if (json === undefined) continue;
      text += `${first ? "" : ","}${JSON.stringify(key)}:${json}`;
    }
    first = false;
  }
  text += "}";
  flush();
  return joinBytes(parts);
}
