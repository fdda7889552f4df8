// Deterministic shortening of prose: the same text always gives the same result, so a shortened
// tool or system prompt is byte-identical on every turn of a conversation.

const sentenceEnd = /[.!?](?=\s|$)/g;

/** Text cut to at most `max` characters at a word boundary, marked with "…" when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The first sentence of `text` (to its first ". ", "! " or "? "), at most `max` characters. */
export function firstSentence(text: string, max: number): string {
  const trimmed = text.trim();
  sentenceEnd.lastIndex = 0;
  const end = sentenceEnd.exec(trimmed);
  const sentence = end ? trimmed.slice(0, end.index + 1) : trimmed;
  return clip(sentence.replace(/\s+/g, " "), max);
}

/** The first paragraph of `text` (to its first blank line), at most `max` characters, ended at a sentence where it is cut. */
export function firstParagraph(text: string, max: number): string {
  const paragraph = (text.trim().split(/\n\s*\n/)[0] ?? "").trim();
  if (paragraph.length <= max) return paragraph;
  let last = -1;
  sentenceEnd.lastIndex = 0;
  for (let m = sentenceEnd.exec(paragraph); m && m.index < max; m = sentenceEnd.exec(paragraph)) last = m.index;
  return last > 0 ? paragraph.slice(0, last + 1) : clip(paragraph, max);
}
