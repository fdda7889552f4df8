/**
 * How deeply a JSON text nests arrays and objects, read in one pass without recursion and
 * without parsing: a 50,000-deep `input_schema` must be refused before JSON.parse, zod or any
 * serializer recurses into it. Stops counting (and answers) as soon as `limit` is exceeded.
 * Brackets inside strings do not count; the text need not be valid JSON.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // backslash: the next character is escaped
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      if (++depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) depth--;
  }
  return false;
}
