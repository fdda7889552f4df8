import { expect, test } from "bun:test";
import { SlotAssigner } from "../../../src/providers/openai-chat/llamacpp-slots.ts";

test("each conversation keeps its slot; a new one takes the slot used longest ago", () => {
  const slots = new SlotAssigner(2);
  expect(slots.slotFor("a")).toBe(0);
  expect(slots.slotFor("b")).toBe(1);
  expect(slots.slotFor("a")).toBe(0);
  expect(slots.slotFor("a")).toBe(0);
  // b's slot was used longest ago.
  expect(slots.slotFor("c")).toBe(1);
  expect(slots.slotFor("a")).toBe(0);
  expect(slots.slotFor("c")).toBe(1);
});

test("no slots configured, or no conversation: the server chooses", () => {
  expect(new SlotAssigner(0).slotFor("a")).toBeUndefined();
  expect(new SlotAssigner(4).slotFor(undefined)).toBeUndefined();
});

test("conversations beyond the bound are forgotten, not kept forever", () => {
  const slots = new SlotAssigner(2, { maxConversations: 2 });
  slots.slotFor("a");
  slots.slotFor("b");
  slots.slotFor("c");
  // a was forgotten: it gets the slot used longest ago (b's, 1) rather than its old 0.
  expect(slots.slotFor("a")).toBe(1);
});
