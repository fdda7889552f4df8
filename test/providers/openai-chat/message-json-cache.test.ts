import { expect, test } from "bun:test";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { MessageJsonCache } from "../../../src/providers/openai-chat/message-json-cache.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const system: ChatCompletionMessageParam = { role: "system", content: 'You are "Claude".\nBe brief. é' };
const user = (content: string): ChatCompletionMessageParam => ({ role: "user", content });

test("a conversation's next turn reuses the bytes of every message equal to the one at its place", () => {
  const cache = new MessageJsonCache();
  const first = cache.jsonOf("s1", [system, user("hi")]);
  expect(first.map(text)).toEqual([JSON.stringify(system), JSON.stringify(user("hi"))]);
  const second = cache.jsonOf("s1", [structuredClone(system), user("hi"), { role: "assistant", content: "hello" }, user("more")]);
  expect(second[0]).toBe(first[0] as Uint8Array);
  expect(second[1]).toBe(first[1] as Uint8Array);
  expect(second.map(text)).toEqual([JSON.stringify(system), JSON.stringify(user("hi")), '{"role":"assistant","content":"hello"}', JSON.stringify(user("more"))]);
  // A message changed at its place (compaction rewrote the history) is serialized anew.
  const third = cache.jsonOf("s1", [system, user("summary")]);
  expect(third[0]).toBe(second[0] as Uint8Array);
  expect(text(third[1])).toBe(JSON.stringify(user("summary")));
});

test("conversations keep apart; without one nothing is kept; only the last few are kept", () => {
  const cache = new MessageJsonCache(2);
  const a = cache.jsonOf("a", [system]);
  expect(cache.jsonOf("b", [system])[0]).not.toBe(a[0] as Uint8Array);
  expect(cache.jsonOf(undefined, [system])[0]).not.toBe(a[0] as Uint8Array);
  expect(cache.jsonOf("a", [system])[0]).toBe(a[0] as Uint8Array);
  cache.jsonOf("b", [system]);
  cache.jsonOf("c", [system]);
  expect(cache.jsonOf("a", [system])[0]).not.toBe(a[0] as Uint8Array);
});
