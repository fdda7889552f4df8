import type { ChatCompletionFunctionTool } from "openai/resources/chat/completions";
import { deepFreeze, isDeeplyFrozen } from "../../anthropic/deep-freeze.ts";
import { sameJson } from "../../anthropic/same-json.ts";
import type { Tool } from "../../anthropic/schema.ts";

// A client sends the same tools on every turn (Claude Code: 12 tools, 31 KB of JSON Schema), and
// their conversion and serialization cost more than the rest of the request together (~130 µs).
// The last few tool sets are kept converted and serialized; a request whose tools are equal,
// value for value and key for key in the same order, to a kept set reuses both. The comparison
// is a walk over the values (~30 µs on Claude Code's set) that stops at the first difference.

/** A tool set as converted and serialized once; both are frozen and shared by every request that sends it. */
export interface ConvertedToolSet {
  readonly tools: readonly ChatCompletionFunctionTool[];
  /** JSON.stringify(tools), exactly, as UTF-8. */
  readonly json: Uint8Array;
}

interface KeptSet {
  /** A private copy of the client's tools the set was made from. */
  client: readonly Tool[];
  converted: ConvertedToolSet;
  /** Per position, a deeply frozen tool object found equal to the copy's there. */
  frozenAt: unknown[];
}

/**
 * Whether `tools` equal the set's. A deeply frozen tool (the server's shared parse of a repeated
 * tools text, optimize's reordering keeps the objects) that matched its position before cannot
 * have changed since: it matches again without the walk.
 */
function matches(set: KeptSet, tools: readonly Tool[]): boolean {
  if (tools.length !== set.client.length) return false;
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i];
    if (set.frozenAt[i] === tool) continue;
    if (!sameJson(tool, set.client[i])) return false;
    if (isDeeplyFrozen(tool)) set.frozenAt[i] = tool;
  }
  return true;
}

export class ToolSetCache {
  /** Most recently used first; each with a private copy of the client's tools it was made from. */
  private readonly sets: KeptSet[] = [];
  private readonly byTools = new WeakMap<readonly ChatCompletionFunctionTool[], ConvertedToolSet>();

  /** `size`: how many sets are kept; a miss compares against each, so few (a session and its subagents). */
  constructor(private readonly size = 4) {}

  /** The converted `tools`: kept from an equal set, else `convert(tools)` (kept unless it throws). */
  convert(tools: readonly Tool[], convert: (tools: readonly Tool[]) => ChatCompletionFunctionTool[]): readonly ChatCompletionFunctionTool[] {
    const at = this.sets.findIndex((set) => matches(set, tools));
    if (at >= 0) {
      const [hit] = this.sets.splice(at, 1);
      if (hit) {
        this.sets.unshift(hit);
        return hit.converted.tools;
      }
    }
    // Converted from a copy: the request's own objects are not ours to keep (nor to freeze), nor
    // to trust unchanged; what conversion keeps of them (enum lists, defaults) is then ours too.
    const client = structuredClone(tools);
    const converted = deepFreeze(convert(client));
    const set: ConvertedToolSet = { tools: converted, json: new TextEncoder().encode(JSON.stringify(converted)) };
    this.sets.unshift({ client, converted: set, frozenAt: [] });
    if (this.sets.length > this.size) this.sets.pop();
    this.byTools.set(converted, set);
    return converted;
  }

  /** JSON.stringify(tools), as UTF-8, for tools this cache converted; undefined for any other array. */
  jsonOf(tools: readonly ChatCompletionFunctionTool[] | undefined): Uint8Array | undefined {
    return tools === undefined ? undefined : this.byTools.get(tools)?.json;
  }
}
