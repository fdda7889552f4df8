import type { ConversationRecord, ConversationStore } from "./ports.ts";
import type { RedisLink } from "./redis-link.ts";

// Per-conversation state in Redis, one hash per conversation, and one hash for the whole fleet
// (when each llama.cpp slot was last used, so a new conversation on any replica takes the slot
// idle longest). Both are read with one script when a request of the conversation arrives; each
// field is written back (HSET with the expiry) as it changes, in the background. A conversation
// idle for `ttlMs` is forgotten (it starts over: one upstream cache miss). While Redis is away
// the record reads empty and writes are dropped: the owners then use their own in-process state.

/** Longer than any upstream prefix cache lives (at most an hour); a session resumed later starts over. */
const defaultTtlMs = 24 * 60 * 60_000;
/** A thread's tool order is well under this; anything larger stays in process. */
const maxFieldBytes = 64 * 1024;
/** Fields beyond these are not ours (a conversation has two or three; the fleet one per slot). */
const maxFields = 1024;
const fleetKey = "lynkr:conversations:fleet";

const readScript = `return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}`;
const setScript = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** The conversation id is the client's: hashed, so a key has a fixed length whatever it sends. */
function keyOf(conversation: string): string {
  return `lynkr:conversation:${new Bun.CryptoHasher("sha256").update(conversation).digest("hex")}`;
}

/** HGETALL's reply (a flat list, as scripts return it; a map from RESP3), bounded. */
function fieldsOf(reply: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  const add = (field: unknown, value: unknown) => {
    if (fields.size < maxFields && typeof field === "string" && typeof value === "string" && value.length <= maxFieldBytes) fields.set(field, value);
  };
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) add(reply[i], reply[i + 1]);
  else if (reply !== null && typeof reply === "object") for (const [field, value] of Object.entries(reply)) add(field, value);
  return fields;
}

export class RedisConversations implements ConversationStore {
  constructor(
    private readonly link: RedisLink,
    private readonly ttlMs = defaultTtlMs,
  ) {}

  open(conversation: string): { record: ConversationRecord; ready: Promise<void> } {
    const key = keyOf(conversation);
    let fields = new Map<string, string>();
    let fleet = new Map<string, string>();
    const ready = this.link.up
      ? this.link.eval(readScript, [key, fleetKey], []).then(
          (reply) => {
            if (!Array.isArray(reply)) return;
            fields = fieldsOf(reply[0]);
            fleet = fieldsOf(reply[1]);
          },
          () => {},
        )
      : Promise.resolve();
    const save = (hash: string, field: string, value: string) => {
      if (!this.link.up || value.length > maxFieldBytes) return;
      this.link.eval(setScript, [hash], [field, value, String(this.ttlMs)]).catch(() => {});
    };
    const record: ConversationRecord = {
      get: (field) => fields.get(field),
      set: (field, value) => {
        fields.set(field, value);
        save(key, field, value);
      },
      fleet: {
        get: (field) => fleet.get(field),
        set: (field, value) => {
          fleet.set(field, value);
          save(fleetKey, field, value);
        },
      },
    };
    return { record, ready };
  }
}
