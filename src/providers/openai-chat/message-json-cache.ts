import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { sameJson } from "../../anthropic/same-json.ts";

// A conversation sends its whole history again on every turn, and each earlier message converts
// to the same Chat Completions message as before (that is what keeps upstream prefix caches
// hitting). Per conversation, the last request's messages are kept with their serialized bytes; a
// message equal (sameJson) to the one at its place then reuses them instead of being serialized
// and encoded again: comparing strings costs a fraction of escaping and encoding them.

const encoder = new TextEncoder();

/** The UTF-8 of JSON.stringify(message) as an array element writes it. */
function encoded(message: ChatCompletionMessageParam): Uint8Array {
  return encoder.encode(JSON.stringify(message) ?? "null");
}

export class MessageJsonCache {
  /** By conversation, least recently used first: each message of its last request, with its bytes. */
  private readonly threads = new Map<string, { message: ChatCompletionMessageParam; json: Uint8Array }[]>();

  /** `threads`: how many conversations are kept (each holds its history once more). */
  constructor(private readonly maxThreads = 4) {}

  /** Each message's JSON as UTF-8; reused where the conversation's last request had an equal message at that place. */
  jsonOf(conversation: string | undefined, messages: readonly ChatCompletionMessageParam[]): Uint8Array[] {
    if (conversation === undefined) return messages.map(encoded);
    const kept = this.threads.get(conversation);
    const entries = messages.map((message, i) => {
      const before = kept?.[i];
      return { message, json: before && sameJson(message, before.message) ? before.json : encoded(message) };
    });
    this.threads.delete(conversation);
    this.threads.set(conversation, entries);
    if (this.threads.size > this.maxThreads) {
      const oldest = this.threads.keys().next().value;
      if (oldest !== undefined) this.threads.delete(oldest);
    }
    return entries.map((entry) => entry.json);
  }
}
