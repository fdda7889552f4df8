import { Lru } from "../../cache/lru.ts";
import type { ConversationRecord } from "../../shared-state/ports.ts";

// llama-server keeps one KV cache per slot (`-np N`). A conversation that comes back to the slot
// holding its prefix is evaluated from where it left off; on another slot it is evaluated anew.
// Each conversation keeps the slot it was given; a new one takes the slot used longest ago. With
// replicas sharing Redis the slot also goes to the conversation's shared record, which wins over
// what this replica remembers (the conversation keeps its slot whichever replica its request
// lands on), and each use of a slot goes to the fleet's record, so "used longest ago" counts
// every replica's requests.

export interface SlotOptions {
  /** Conversations remembered in process. */
  maxConversations?: number;
  /** The slot's field in the shared conversation record: one per llama-server (provider name). */
  field?: string;
}

export class SlotAssigner {
  private readonly bySession: Lru<string, number>;
  /** Slots, least recently used first. */
  private readonly order: number[];
  private readonly field: string;

  constructor(
    readonly slots: number,
    options: SlotOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.bySession = new Lru(options.maxConversations ?? 10_000);
    this.order = Array.from({ length: slots }, (_, i) => i);
    this.field = options.field ?? "slot";
  }

  /** The conversation's slot; undefined when there is no conversation to keep apart. */
  slotFor(conversation: string | undefined, shared?: ConversationRecord): number | undefined {
    if (conversation === undefined || this.slots === 0) return undefined;
    const remote = this.fromShared(shared);
    let slot = remote ?? this.bySession.get(conversation);
    if (slot === undefined) slot = this.idlest(shared);
    this.bySession.set(conversation, slot);
    if (shared && remote !== slot) shared.set(this.field, String(slot));
    shared?.fleet.set(`${this.field}:${slot}`, String(this.now()));
    this.touch(slot);
    return slot;
  }

  /** The slot used longest ago: by the fleet's record where it knows (never used: first), else by this replica's order. */
  private idlest(shared: ConversationRecord | undefined): number {
    let best = this.order[0] as number;
    let bestAt = Number.POSITIVE_INFINITY;
    for (const slot of this.order) {
      const at = Number(shared?.fleet.get(`${this.field}:${slot}`) ?? -1);
      if (Number.isFinite(at) && at < bestAt) {
        best = slot;
        bestAt = at;
      }
    }
    return best;
  }

  /** The shared record's slot, if it names one of this server's. */
  private fromShared(shared: ConversationRecord | undefined): number | undefined {
    const text = shared?.get(this.field);
    if (text === undefined || !/^\d{1,4}$/.test(text)) return undefined;
    const slot = Number(text);
    return slot < this.slots ? slot : undefined;
  }

  private touch(slot: number): void {
    const i = this.order.indexOf(slot);
    if (i !== -1) this.order.splice(i, 1);
    this.order.push(slot);
  }
}
