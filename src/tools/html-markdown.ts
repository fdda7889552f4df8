import type TurndownService from "turndown";

// Pages reach the model as Markdown: a fraction of the HTML's tokens, structure kept.

let turndown: TurndownService | undefined;

/** Built on the first page: turndown and its DOM (domino) took ~13 ms of every start. */
function converter(): TurndownService {
  if (turndown) return turndown;
  const Turndown: typeof TurndownService = require("turndown");
  turndown = new Turndown({ headingStyle: "atx", codeBlockStyle: "fenced", bulletListMarker: "-" });
  // Nothing in these helps a model read the page.
  turndown.remove(["script", "style", "noscript", "iframe", "svg", "canvas", "template", "head", "title"]);
  return turndown;
}

export function htmlToMarkdown(html: string): string {
  return converter().turndown(html).replace(/\n{3,}/g, "\n\n").trim();
}

export function htmlTitle(html: string): string | undefined {
  const match = /<title[^>]*>([^<]{1,300})<\/title>/i.exec(html);
  return match?.[1]?.trim() || undefined;
}
