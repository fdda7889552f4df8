import type { MessageParam, MessagesRequest } from "../anthropic/schema.ts";
import { firstSentence } from "./shorten.ts";

// Claude Code's system prompt (~1.6k tokens) and its role:"system" context message (~2.2k:
// environment, agent types, skills with long descriptions) go with every request. For a
// small-context model each long line keeps its first sentence (a list item keeps its marker and
// name), and fenced examples go; headings, short lines and the environment facts stay. Pure
// text in, text out: the same prompt slims to the same bytes on every turn.

/** Lines longer than this are cut to their first sentence. */
const longLine = 200;
const keptSentence = 200;

// [ \t]*, not \s*: \s would cross lines, and a run of blank lines would make the scan quadratic.
const fence = /^[ \t]*```[^\n]*\n[\s\S]*?^[ \t]*```[^\n]*$\n?/gm;
const listItem = /^(\s*(?:[-*]|\d+\.)\s+(?:[\w.:/@-]{1,60}:\s)?)([\s\S]*)$/;

function slimLine(line: string): string {
  if (line.length <= longLine) return line;
  const item = listItem.exec(line);
  if (item) return `${item[1]}${firstSentence(item[2] ?? "", keptSentence)}`;
  return firstSentence(line, keptSentence);
}

export function slimText(text: string): string {
  return text.replace(fence, "").split("\n").map(slimLine).join("\n").replace(/\n{3,}/g, "\n\n");
}

function slimContent(content: MessageParam["content"]): MessageParam["content"] {
  if (typeof content === "string") return slimText(content);
  return content.map((block) => (block.type === "text" && typeof block.text === "string" ? { ...block, text: slimText(block.text) } : block));
}

/** The request with its system prompt and role:"system" messages slimmed; the rest untouched. */
export function slimSystem(request: MessagesRequest): MessagesRequest {
  const system =
    request.system === undefined
      ? undefined
      : typeof request.system === "string"
        ? slimText(request.system)
        : request.system.map((block) => ({ ...block, text: slimText(block.text) }));
  const messages = request.messages.map((message) => (message.role === "system" ? { ...message, content: slimContent(message.content) } : message));
  return { ...request, ...(system !== undefined ? { system } : {}), messages };
}
