/** What one pass over a JSON text found, before it is parsed. */
export interface JsonScan {
  /** It nests arrays and objects deeper than the limit. */
  tooDeep: boolean;
  /**
   * Where the value of the top-level member named in the scan lies, [start, end): given only when
   * that value is an array and the member is certainly the one JSON.parse keeps (the text is an
   * object, the name appears once, and no top-level key is written with escapes).
   */
  member: [number, number] | undefined;
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** The index just past the string whose opening quote is at `open`; -1 when it is unterminated. */
function stringEnd(text: string, open: number): number {
  // The closing quote is the first whose preceding backslashes are even in number.
  let close = text.indexOf('"', open + 1);
  for (;;) {
    if (close < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return close + 1;
    close = text.indexOf('"', close + 1);
  }
}

/**
 * How deeply a JSON text nests arrays and objects, read in one pass without recursion and
 * without parsing: a 50,000-deep `input_schema` must be refused before JSON.parse, zod or any
 * serializer recurses into it. Stops counting as soon as `limit` is exceeded. Brackets inside
 * strings do not count; the text need not be valid JSON. On the way it notes where the top-level
 * member `name` (when given) has its array value, for a caller that can reuse it (repeated-member.ts).
 *
 * Most of a request is string contents (prompts, tool descriptions): a string is skipped with
 * indexOf to its next quote, which is escaped when an odd run of backslashes precedes it; only
 * the few characters between strings are looked at one by one.
 */
export function scanJson(text: string, limit: number, name?: string): JsonScan {
  const n = text.length;
  const key = name === undefined ? undefined : JSON.stringify(name);
  let first = 0;
  while (first < n && isJsonSpace(text.charCodeAt(first))) first++;
  let depth = 0;
  // Inside the top-level object (the text's first value), where a string is a key when one is due.
  let topObject = false;
  let expectKey = false;
  let keyed = false; // the last key read there was `name`
  let valueStart = -1;
  let member: [number, number] | undefined;
  let certain = key !== undefined;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      const end = stringEnd(text, i);
      if (end < 0) return { tooDeep: false, member: undefined }; // unterminated: nothing after it counts
      if (topObject && depth === 1 && expectKey) {
        expectKey = false;
        for (let j = i + 1; j < end - 1; j++) if (text.charCodeAt(j) === 0x5c) certain = false; // an escaped key
        keyed = key !== undefined && end - i === key.length && text.startsWith(key, i);
        if (keyed && (member !== undefined || valueStart >= 0)) certain = false; // named twice
      }
      i = end - 1;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > limit) return { tooDeep: true, member: undefined };
      if (depth === 1) topObject = expectKey = i === first && code === 0x7b;
      else if (depth === 2 && topObject && keyed && code === 0x5b) valueStart = i;
    } else if (code === 0x7d || code === 0x5d) {
      if (depth === 2 && valueStart >= 0) {
        member = [valueStart, i + 1];
        valueStart = -1;
      }
      if (--depth === 0) topObject = false;
    } else if (code === 0x2c && topObject && depth === 1) {
      expectKey = true;
      keyed = false;
    }
  }
  return { tooDeep: false, member: certain && valueStart < 0 ? member : undefined };
}
