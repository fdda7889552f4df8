import { isFiniteNumber as isNumber, isInteger, isObject, isString } from "../../anthropic/json-checks.ts";
import type { ChatChunk } from "./wire.ts";

// A fast "certainly valid" answer for every streamed chunk: whether chatChunkSchema (wire.ts)
// accepts a value JSON.parse made. It checks each constraint the schema checks, or a stricter
// one, so `true` means zod would accept the value unchanged (loose objects, no transforms, absent
// keys left absent): the value can be used as zod's answer. `false` only means "ask zod". A long
// answer streams hundreds of chunks, each checked by zod at several µs before;
// test/providers/openai-chat/chunk-accepts.test.ts holds the two together.

type Json = unknown;

const nullish = (v: Json, check: (v: Json) => boolean) => v === undefined || v === null || check(v);
const stringOrNumber = (v: Json) => isString(v) || isNumber(v);

const textPartOk = (p: Json) => isObject(p) && isString(p.type) && nullish(p.text, isString);
const textPartsOk = (v: Json) => Array.isArray(v) && v.every(textPartOk);

function contentPartOk(p: Json): boolean {
  return (
    isObject(p) &&
    isString(p.type) &&
    nullish(p.text, isString) &&
    nullish(p.thinking, (t) => isString(t) || textPartsOk(t)) &&
    nullish(p.summary, textPartsOk)
  );
}

const functionOk = (f: Json) => isObject(f) && nullish(f.name, isString) && nullish(f.arguments, isString);
const toolCallOk = (c: Json) => isObject(c) && nullish(c.index, isInteger) && nullish(c.id, isString) && nullish(c.function, functionOk);

function deltaOk(d: Json): boolean {
  return (
    isObject(d) &&
    nullish(d.content, (c) => isString(c) || (Array.isArray(c) && c.every(contentPartOk))) &&
    nullish(d.reasoning_content, isString) &&
    nullish(d.reasoning, isString) &&
    nullish(d.refusal, isString) &&
    nullish(d.tool_calls, (t) => Array.isArray(t) && t.every(toolCallOk)) &&
    nullish(d.function_call, functionOk)
  );
}

function choiceOk(c: Json): boolean {
  return (
    isObject(c) &&
    nullish(c.index, isInteger) &&
    nullish(c.finish_reason, isString) &&
    nullish(c.stop_reason, stringOrNumber) &&
    nullish(c.matched_stop, stringOrNumber) &&
    nullish(c.delta, deltaOk)
  );
}

function usageOk(u: Json): boolean {
  return (
    isObject(u) &&
    nullish(u.prompt_tokens, isNumber) &&
    nullish(u.completion_tokens, isNumber) &&
    nullish(u.prompt_tokens_details, (d) => isObject(d) && nullish(d.cached_tokens, isNumber) && nullish(d.cache_write_tokens, isNumber)) &&
    nullish(u.prompt_cache_hit_tokens, isNumber)
  );
}

/** True only if chatChunkSchema accepts `chunk` (a value JSON.parse made) as it is; false: let zod say. */
export function certainlyChatChunk(chunk: Json): chunk is ChatChunk {
  return (
    isObject(chunk) &&
    nullish(chunk.id, isString) &&
    nullish(chunk.model, isString) &&
    nullish(chunk.choices, (c) => Array.isArray(c) && c.every(choiceOk)) &&
    nullish(chunk.usage, usageOk) &&
    nullish(chunk.x_groq, (x) => isObject(x) && nullish(x.usage, usageOk)) &&
    nullish(chunk.timings, (t) => isObject(t) && nullish(t.prompt_n, isNumber) && nullish(t.cache_n, isNumber) && nullish(t.predicted_n, isNumber)) &&
    nullish(chunk.error, (e) => isObject(e) && nullish(e.message, isString) && nullish(e.code, stringOrNumber))
  );
}
