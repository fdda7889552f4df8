/**
 * How deeply a JSON text nests arrays and objects, read in one pass without recursion and
 * without parsing: a 50,000-deep `input_schema` must be refused before JSON.parse, zod or any
 * serializer recurses into it. Stops counting (and answers) as soon as `limit` is exceeded.
 * Brackets inside strings do not count; the text need not be valid JSON.
 *
 * Most of a request is string contents (prompts, tool descriptions): a string is skipped with
 * indexOf to its next quote, which is escaped when an odd run of backslashes precedes it; only
 * the few characters between strings are looked at one by one.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      // The string's closing quote: the first whose preceding backslashes are even in number.
      let close = text.indexOf('"', i + 1);
      for (;;) {
        if (close < 0) return false; // unterminated: nothing after it counts
        let slashes = 0;
        while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
        close = text.indexOf('"', close + 1);
      }
      i = close;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) depth--;
  }
  return false;
}
