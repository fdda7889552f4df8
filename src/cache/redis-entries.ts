import type { RedisLink } from "../shared-state/redis-link.ts";
import { entryText, parseEntry, type CacheEntry, type Stored } from "./entry.ts";
import type { PromptKey } from "./key.ts";
import type { HotEntries } from "./prompt-cache.ts";

// The prompt cache's hot entries in Redis (LYNKR_REDIS_URL), read by every replica: an answer
// one replica stored is replayed by the next whichever it is. One key per fingerprint (so a
// miss costs one GET and no SHA-256) holding "<key>\n<expires-at>\n<entry JSON>"; the key picks
// the entry among requests that share a fingerprint. Each entry expires with its TTL, and an
// index (sorted by when stored) keeps at most PROMPT_CACHE_MAX_ENTRIES of them. An entry larger
// than `maxEntryBytes` goes as a marker without its JSON: the durable store has it.

/** Redis holds at most max entries × this; a long streamed answer's frames are well under. */
export const defaultRedisEntryMaxBytes = 1024 * 1024;

const prefix = "lynkr:prompt-cache:";
const index = `${prefix}index`;

// KEYS[1] the entry, KEYS[2] the index; ARGV value, time to live (ms), max entries.
const putScript = `
local ttl, max = tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[2], now, KEYS[1])
local over = redis.call('ZCARD', KEYS[2]) - max
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  redis.call('DEL', unpack(oldest))
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
redis.call('PEXPIRE', KEYS[2], math.max(ttl, redis.call('PTTL', KEYS[2])))
return 1
`;

export class RedisEntries implements HotEntries {
  constructor(
    private readonly link: RedisLink,
    private readonly maxEntries: number,
    private readonly maxEntryBytes = defaultRedisEntryMaxBytes,
    private readonly now: () => number = Date.now,
  ) {}

  get up(): boolean {
    return this.link.up;
  }

  async find(id: PromptKey, now: number): Promise<CacheEntry | "durable" | undefined> {
    const reply = await this.link.send("GET", [`${prefix}${id.fingerprint()}`]);
    if (typeof reply !== "string") return undefined;
    const keyEnd = reply.indexOf("\n");
    const expiresEnd = reply.indexOf("\n", keyEnd + 1);
    if (keyEnd < 0 || expiresEnd < 0 || reply.slice(0, keyEnd) !== id.key()) return undefined;
    const expiresAt = Number(reply.slice(keyEnd + 1, expiresEnd));
    if (!(expiresAt > now)) return undefined;
    if (expiresEnd === reply.length - 1) return "durable";
    return parseEntry(reply.slice(expiresEnd + 1), expiresAt);
  }

  put(entry: Stored): void {
    const ttl = entry.expiresAt - this.now();
    if (ttl <= 0) return;
    const head = `${entry.id.key()}\n${entry.expiresAt}\n`;
    let value = head + entryText(entry);
    if (Buffer.byteLength(value) > this.maxEntryBytes) value = head;
    // A lost write is a later miss: nothing to do about it here.
    this.link.eval(putScript, [`${prefix}${entry.fingerprint}`, index], [value, String(ttl), String(this.maxEntries)]).catch(() => {});
  }
}
