import { joinBytes } from "../providers/join-bytes.ts";

// A body from a server an outsider (or the operator's config) names, read no further than a cap:
// what comes past it is never buffered, the connection is cancelled instead.

/** At most `maxBytes` of `response`'s body; `truncated` when the body had more (or exactly that much). */
export async function readCapped(response: Response, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) return { bytes: new Uint8Array(), truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - size;
    if (value.length >= room) {
      chunks.push(value.subarray(0, room));
      size += room;
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  return { bytes: joinBytes(chunks, size), truncated };
}
