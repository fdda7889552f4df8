import { isBoolean, isFiniteNumber, isInteger, isObject, isString } from "./json-checks.ts";
import { knownBlockTypes, maxModelNameLength, toolResultContentTypes } from "./schema.ts";

// A fast "certainly valid" answer for the hot path: whether messagesRequestSchema (schema.ts)
// accepts a value that came out of JSON.parse. It checks every constraint the schema checks, or a
// stricter one, so `true` means zod would accept the value too (the schema never transforms, so
// nothing is lost by not running it); `false` means only "ask zod", which then names the problem.
// Walking the value costs a few µs where zod, copying every loose object it checks, cost 40-170 µs
// on a 48 KB Claude Code request. test/anthropic/request-accepts.test.ts holds the two together.

type Json = unknown;

const optional = (v: Json, check: (v: Json) => boolean) => v === undefined || check(v);
const cacheControlOk = (v: Json) => optional(v, (c) => isObject(c) && isString(c.type));

function textBlockOk(b: Record<string, Json>): boolean {
  return b.type === "text" && isString(b.text) && cacheControlOk(b.cache_control);
}

function sourceOk(s: Json, second: "url" | "text"): boolean {
  if (!isObject(s) || !isString(s.type)) return false;
  if (s.type === "base64") return isString(s.media_type) && isString(s.data);
  if (s.type === second) return second === "url" ? isString(s.url) : isString(s.data);
  return true; // an unknown source type, carried as it came
}

function imageOk(b: Record<string, Json>): boolean {
  return sourceOk(b.source, "url") && cacheControlOk(b.cache_control);
}

function documentOk(b: Record<string, Json>): boolean {
  return sourceOk(b.source, "text") && (b.title === undefined || b.title === null || isString(b.title)) && cacheControlOk(b.cache_control);
}

/** The block types a message and a tool result's content share; undefined for any other type. */
function sharedBlockOk(b: Record<string, Json>): boolean | undefined {
  if (b.type === "text") return textBlockOk(b);
  if (b.type === "image") return imageOk(b);
  if (b.type === "document") return documentOk(b);
  return undefined;
}

function toolResultContentOk(c: Json): boolean {
  if (!isObject(c) || !isString(c.type)) return false;
  return sharedBlockOk(c) ?? !(toolResultContentTypes as readonly string[]).includes(c.type as string);
}

function blockOk(b: Json): boolean {
  if (!isObject(b) || !isString(b.type)) return false;
  const shared = sharedBlockOk(b);
  if (shared !== undefined) return shared;
  switch (b.type) {
    case "tool_use":
      return isString(b.id) && isString(b.name) && "input" in b && cacheControlOk(b.cache_control);
    case "tool_result": {
      const content = b.content;
      const contentOk = content === undefined || isString(content) || (Array.isArray(content) && content.every(toolResultContentOk));
      return isString(b.tool_use_id) && contentOk && optional(b.is_error, isBoolean) && cacheControlOk(b.cache_control);
    }
    case "thinking":
      return isString(b.thinking) && optional(b.signature, isString);
    case "redacted_thinking":
      return isString(b.data);
    default:
      return !(knownBlockTypes as readonly string[]).includes(b.type as string);
  }
}

function messageOk(m: Json): boolean {
  if (!isObject(m)) return false;
  if (m.role !== "user" && m.role !== "assistant" && m.role !== "system") return false;
  const content = m.content;
  return isString(content) || (Array.isArray(content) && content.every(blockOk));
}

function toolOk(t: Json): boolean {
  return (
    isObject(t) &&
    typeof t.name === "string" &&
    t.name.length >= 1 &&
    optional(t.description, isString) &&
    optional(t.input_schema, isObject) &&
    optional(t.type, isString)
  );
}

function toolChoiceOk(c: Json): boolean {
  return (
    isObject(c) &&
    (c.type === "auto" || c.type === "any" || c.type === "tool" || c.type === "none") &&
    optional(c.name, isString) &&
    optional(c.disable_parallel_tool_use, isBoolean)
  );
}

/** True only if messagesRequestSchema accepts `body` (a value JSON.parse made); false: let zod say. */
export function certainlyValidMessagesRequest(body: Json): boolean {
  if (!isObject(body)) return false;
  const { model, max_tokens, messages, system } = body;
  return (
    typeof model === "string" &&
    model.length >= 1 &&
    model.length <= maxModelNameLength &&
    isInteger(max_tokens) &&
    (max_tokens as number) > 0 &&
    Array.isArray(messages) &&
    messages.every(messageOk) &&
    (system === undefined || isString(system) || (Array.isArray(system) && system.every((b) => isObject(b) && textBlockOk(b)))) &&
    optional(body.stream, isBoolean) &&
    optional(body.tools, (tools) => Array.isArray(tools) && tools.every(toolOk)) &&
    optional(body.tool_choice, toolChoiceOk) &&
    optional(body.thinking, (t) => isObject(t) && isString(t.type) && optional(t.budget_tokens, isInteger)) &&
    optional(body.temperature, isFiniteNumber) &&
    optional(body.top_p, isFiniteNumber) &&
    optional(body.top_k, isInteger) &&
    optional(body.stop_sequences, (s) => Array.isArray(s) && s.every(isString)) &&
    optional(body.metadata, (m) => isObject(m) && (m.user_id === undefined || m.user_id === null || isString(m.user_id))) &&
    optional(body.output_config, (o) => isObject(o) && optional(o.effort, isString)) &&
    optional(body.context_management, isObject)
  );
}
