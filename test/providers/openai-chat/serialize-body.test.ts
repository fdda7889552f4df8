import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { MessagesRequest } from "../../../src/anthropic/schema.ts";
import type { ModelCapabilities } from "../../../src/providers/models/capabilities.ts";
import { chatFlavors, type ChatFlavor } from "../../../src/providers/openai-chat/flavors.ts";
import { toChatRequest } from "../../../src/providers/openai-chat/request.ts";
import { MessageJsonCache } from "../../../src/providers/openai-chat/message-json-cache.ts";
import { serializeChatBody } from "../../../src/providers/openai-chat/serialize-body.ts";
import { ToolSetCache } from "../../../src/providers/openai-chat/tool-set-cache.ts";
import { wireDir } from "../../helpers/fake-upstream.ts";

// The body an upstream gets must be the same bytes with the tool-set cache as without it: on
// every recorded Claude Code request, in the order a session sends them, for every flavor.

function recordedTexts(): string[] {
  const out = [JSON.stringify((JSON.parse(readFileSync(join(wireDir, "claude-code-2.1.328-request.json"), "utf8")) as { body: unknown }).body)];
  const sessions = join(wireDir, "claude-code-sessions");
  for (const dir of readdirSync(sessions).sort()) {
    if (!statSync(join(sessions, dir)).isDirectory()) continue;
    for (const file of readdirSync(join(sessions, dir)).sort()) {
      if (!file.endsWith(".json")) continue;
      const recorded = JSON.parse(readFileSync(join(sessions, dir, file), "utf8")) as { url: string; body: unknown };
      if (/\/v1\/messages(\?|$)/.test(recorded.url)) out.push(JSON.stringify(recorded.body));
    }
  }
  return out;
}

const capabilities: ModelCapabilities = {
  context_window: 200_000,
  max_output_tokens: 32_000,
  tools: true,
  images: true,
  pdf: true,
  reasoning: true,
  reasoning_history: true,
  cache_control: true,
};

function options(flavor: ChatFlavor, toolSets?: ToolSetCache) {
  return {
    flavor,
    provider: flavor,
    bodyModel: "some-model",
    model: "some-model",
    capabilities,
    midSystem: "keep" as const,
    conversation: "session-1",
    promptCacheKey: true,
    slot: 1,
    ...(toolSets ? { toolSets } : {}),
  };
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** The bytes fetch sent for the body before: JSON.stringify's text, as UTF-8. */
function expectSameBytes(bytes: Uint8Array, body: unknown): void {
  const expected = JSON.stringify(body);
  expect(new TextDecoder().decode(bytes)).toBe(expected);
  expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
}

test("with its tools' JSON given, the body is byte for byte JSON.stringify's as UTF-8", () => {
  for (const text of recordedTexts()) {
    const body = toChatRequest(JSON.parse(text) as MessagesRequest, options("openai"));
    expectSameBytes(serializeChatBody(body, { tools: utf8(JSON.stringify(body.tools)) }), body);
    const messages = body.messages.map((m) => utf8(JSON.stringify(m)));
    expectSameBytes(serializeChatBody(body, { messages }), body);
    expectSameBytes(serializeChatBody(body, { tools: utf8(JSON.stringify(body.tools)), messages }), body);
  }
  const bare = toChatRequest({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi \ud83d\ude00 \ud800" }] }, options("openai"));
  expectSameBytes(serializeChatBody(bare, {}), bare);
  expectSameBytes(serializeChatBody(bare, { messages: [utf8(JSON.stringify(bare.messages[0]))] }), bare);
  expectSameBytes(serializeChatBody({ ...bare, messages: [] }, { messages: [] }), { ...bare, messages: [] });
  const toolsOnly = { tools: [{ type: "function" as const, function: { name: "é", parameters: {} } }], messages: [], stream: true as const };
  expectSameBytes(serializeChatBody(toolsOnly, { tools: utf8(JSON.stringify(toolsOnly.tools)) }), toolsOnly);
});

test("each recorded request, parsed afresh as a server does, reaches every flavor's upstream as the same bytes with the caches as without", () => {
  const texts = recordedTexts();
  expect(texts.length).toBeGreaterThan(15);
  for (const flavor of Object.keys(chatFlavors) as ChatFlavor[]) {
    const toolSets = new ToolSetCache();
    const messageJson = new MessageJsonCache(2);
    let reused = 0;
    let messagesReused = 0;
    let plainTurn: Uint8Array[] | undefined;
    // Twice over: the second round finds every set converted already (or evicted, for the many sets).
    for (const text of [...texts, ...texts]) {
      const plain = toChatRequest(JSON.parse(text) as MessagesRequest, options(flavor));
      const cached = toChatRequest(JSON.parse(text) as MessagesRequest, options(flavor, toolSets));
      const json = toolSets.jsonOf(cached.tools);
      if (json !== undefined) reused++;
      // One conversation for all: turns of a session share their earlier messages, other sessions none.
      const messages = messageJson.jsonOf("session-1", cached.messages);
      const before = plainTurn;
      plainTurn = messages;
      messagesReused += messages.filter((m, i) => before?.[i] === m).length;
      expectSameBytes(serializeChatBody(cached, { tools: json, messages }), plain);
    }
    expect(reused).toBeGreaterThan(texts.length);
    expect(messagesReused).toBeGreaterThan(texts.length);
  }
});
