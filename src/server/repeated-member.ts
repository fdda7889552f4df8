import { deepFreeze } from "../anthropic/deep-freeze.ts";

// A client sends the same tools on every turn: Claude Code's 12 are 31 KB of its 48 KB request,
// and most of what JSON.parse builds (a thousand small objects of JSON Schema), every time. The
// last few `tools` texts are kept with the value they parsed to, frozen: a body whose `tools`
// text is one of them byte for byte is parsed without it, and the kept value put in its place
// (the same key, so the same key order). The value is shared by every request that sent the
// text; frozen, it cannot be changed by one for the others, and steps that keep something per
// tool set (the OpenAI Chat conversion) recognise it by identity.

export class RepeatedMember {
  /** Most recently used first. */
  private readonly kept: { text: string; value: unknown }[] = [];

  /** `name`: the top-level member; `size`: how many of its texts are kept (a session and its subagents). */
  constructor(
    readonly name: string,
    private readonly size = 4,
  ) {}

  /**
   * JSON.parse(text), with the member's value (found by scanJson at `span`) taken from the kept
   * ones when its text is one of them. Throws exactly what JSON.parse(text) throws.
   */
  parse(text: string, span: [number, number] | undefined): unknown {
    if (span === undefined) return JSON.parse(text);
    const [start, end] = span;
    const memberText = text.slice(start, end);
    const at = this.kept.findIndex((k) => k.text === memberText);
    if (at >= 0) {
      const hit = this.kept[at] as { text: string; value: unknown };
      let rest: unknown;
      try {
        // The kept text parsed before, so the body parses whole exactly when the rest does.
        rest = JSON.parse(`${text.slice(0, start)}0${text.slice(end)}`);
      } catch {
        return JSON.parse(text); // for JSON.parse's own words (positions) about the body as sent
      }
      (rest as Record<string, unknown>)[this.name] = hit.value;
      this.kept.splice(at, 1);
      this.kept.unshift(hit);
      return rest;
    }
    const json = JSON.parse(text) as Record<string, unknown>;
    // A copy of the member's text: a slice would keep the whole body it came from alive.
    this.kept.unshift({ text: Buffer.from(memberText, "utf16le").toString("utf16le"), value: deepFreeze(json[this.name]) });
    if (this.kept.length > this.size) this.kept.pop();
    return json;
  }
}
