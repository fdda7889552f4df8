import TurndownService from "turndown";

// Pages reach the model as Markdown: a fraction of the HTML's tokens, structure kept.

const turndown = new TurndownService({ headingStyle: "atx", codeBlockStyle: "fenced", bulletListMarker: "-" });
// Nothing in these helps a model read the page.
turndown.remove(["script", "style", "noscript", "iframe", "svg", "canvas", "template", "head", "title"]);

export function htmlToMarkdown(html: string): string {
  return turndown.turndown(html).replace(/\n{3,}/g, "\n\n").trim();
}

export function htmlTitle(html: string): string | undefined {
  const match = /<title[^>]*>([^<]{1,300})<\/title>/i.exec(html);
  return match?.[1]?.trim() || undefined;
}
