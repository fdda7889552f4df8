import type { Tool } from "../anthropic/schema.ts";
import { firstParagraph, firstSentence } from "./shorten.ts";

// Claude Code's tools cost ~7k tokens on every request, most of it prose: usage advice,
// examples, policies. For a small-context model the tool's first paragraph says what it does;
// each parameter keeps its first sentence. Names, parameter names, types, enums, `required` and
// every other schema keyword stay exactly as sent: the model can still call every tool right.

const toolDescriptionChars = 320;
const parameterDescriptionChars = 100;

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deeper than any real schema; past it a schema is kept as it is (no recursion without bound). */
const maxDepth = 64;

/** A schema with every `description` (to `maxDepth`) cut to its first sentence. */
function compactSchema(schema: Json, depth = 0): Json {
  if (depth > maxDepth) return schema;
  if (Array.isArray(schema)) return schema.map((item) => compactSchema(item, depth + 1));
  if (!isObject(schema)) return schema;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "description" && typeof value === "string") out[key] = firstSentence(value, parameterDescriptionChars);
    // `properties` maps parameter names to schemas: names stay, their schemas are compacted.
    else if (key === "properties" && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, compactSchema(sub, depth + 1)]));
    // Literal values (enum, const, default, examples) are data, not schemas: kept as they are.
    else if (key === "enum" || key === "const" || key === "default" || key === "examples") out[key] = value;
    else out[key] = compactSchema(value, depth + 1);
  }
  return out;
}

export function compactTool(tool: Tool): Tool {
  const out: Tool = { ...tool };
  if (tool.description !== undefined) out.description = firstParagraph(tool.description, toolDescriptionChars);
  if (tool.input_schema !== undefined) out.input_schema = compactSchema(tool.input_schema) as Record<string, unknown>;
  return out;
}
