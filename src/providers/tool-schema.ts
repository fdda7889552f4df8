import type { Tool } from "../anthropic/schema.ts";

// Tools as OpenAI-style backends (Chat Completions, Ollama) take them. Claude Code sends JSON
// Schema 2020-12 with `$schema` on every tool; strict validators (OpenAI strict mode, Gemini
// behind OpenRouter, some vLLM guided-decoding back ends) reject the meta keywords, and OpenAI
// rejects an object schema without `properties`. Everything else is kept as the client wrote it.

const metaKeywords = new Set(["$schema", "$id", "$comment"]);
const schemaMaps = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
const schemaLists = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
const singleSchemas = new Set(["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"]);

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function cleanSchema(schema: Json): Json {
  if (!isObject(schema)) return schema;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (metaKeywords.has(key)) continue;
    if (schemaMaps.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, cleanSchema(sub)]));
    } else if (schemaLists.has(key) && Array.isArray(value)) {
      out[key] = value.map(cleanSchema);
    } else if (singleSchemas.has(key)) {
      out[key] = Array.isArray(value) ? value.map(cleanSchema) : cleanSchema(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The `parameters` of an OpenAI function for an Anthropic tool's `input_schema`. */
export function toolParameters(inputSchema: Record<string, unknown> | undefined): Record<string, unknown> {
  const cleaned = cleanSchema(inputSchema ?? {}) as Record<string, unknown>;
  const type = cleaned.type ?? "object";
  if (type === "object" && !isObject(cleaned.properties)) return { ...cleaned, type, properties: {} };
  return { ...cleaned, type };
}

/** The function-tool shape Chat Completions and Ollama share. */
export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

/** An Anthropic custom tool as a function tool. */
export function functionTool(tool: Tool): FunctionTool {
  return {
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      parameters: toolParameters(tool.input_schema),
    },
  };
}
