import { Lru } from "../../cache/lru.ts";

// llama-server keeps one KV cache per slot (`-np N`). A conversation that comes back to the slot
// holding its prefix is evaluated from where it left off; on another slot it is evaluated anew.
// Each conversation keeps the slot it was given; a new one takes the slot used longest ago.

export class SlotAssigner {
  private readonly bySession: Lru<string, number>;
  /** Slots, least recently used first. */
  private readonly order: number[];

  constructor(readonly slots: number, maxConversations = 10_000) {
    this.bySession = new Lru(maxConversations);
    this.order = Array.from({ length: slots }, (_, i) => i);
  }

  /** The conversation's slot; undefined when there is no conversation to keep apart. */
  slotFor(conversation: string | undefined): number | undefined {
    if (conversation === undefined || this.slots === 0) return undefined;
    let slot = this.bySession.get(conversation);
    if (slot === undefined) {
      slot = this.order[0] as number;
      this.bySession.set(conversation, slot);
    }
    this.touch(slot);
    return slot;
  }

  private touch(slot: number): void {
    const i = this.order.indexOf(slot);
    if (i !== -1) this.order.splice(i, 1);
    this.order.push(slot);
  }
}
