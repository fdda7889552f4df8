// Checks on values JSON.parse made, as the fast validity walks use them (request-accepts.ts,
// providers/openai-chat/chunk-accepts.ts): each means what the zod check of the same name does.

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const isString = (v: unknown): v is string => typeof v === "string";
export const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
/** z.number(): finite (JSON.parse makes Infinity of 1e999). */
export const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
/** z.number().int(): a safe integer. */
export const isInteger = (v: unknown): v is number => Number.isSafeInteger(v);
