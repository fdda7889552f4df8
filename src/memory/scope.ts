import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ContentBlockParam, MessagesRequest } from "../anthropic/schema.ts";

// Which project a request belongs to. Claude Code states its working directory in its
// environment block — a role:"system" message in the main loop, a <system-reminder> in the first
// user message of subagents — as " - Primary working directory: /path" followed by
// " - Is a git repository: true|false". Only those system texts are read: a path the user types
// in a prompt says nothing about where Claude Code runs.

export const globalScope = "global";

const workingDir = /Primary working directory: ([^\n]+)\n(?:[^\n]*\n){0,2}?\s*- Is a git repository: (true|false)|Primary working directory: ([^\n]+)/;

function texts(content: string | ContentBlockParam[]): string[] {
  if (typeof content === "string") return [content];
  return content.flatMap((block) => (block.type === "text" && typeof block.text === "string" ? [block.text] : []));
}

/** The system texts of a request: `system`, role:"system" messages, reminders in user messages. */
function systemTexts(request: Pick<MessagesRequest, "system" | "messages">): string[] {
  const out: string[] = [];
  if (typeof request.system === "string") out.push(request.system);
  else for (const block of request.system ?? []) out.push(block.text);
  for (const message of request.messages) {
    if (message.role === "system") out.push(...texts(message.content));
    else if (message.role === "user") out.push(...texts(message.content).flatMap((t) => t.match(/<system-reminder>[\s\S]*?<\/system-reminder>/g) ?? []));
  }
  return out;
}

/** The nearest folder at or above `dir` holding `.git`; `dir` itself when none does. */
export function gitRoot(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(resolve(at, ".git"))) return at;
    if (dirname(at) === at) return dir;
  }
}

/** A project folder as memory keys it: absolute, at its git root when it is in a repository. */
export function projectScope(dir: string, isRepo = true): string {
  const absolute = resolve(dir.trim());
  return `project:${isRepo ? gitRoot(absolute) : absolute}`;
}

function clientScope(client: string): string {
  return `client:${client}`;
}

/** The request's project, else the client's default scope. */
export function scopeOf(request: Pick<MessagesRequest, "system" | "messages">, client: string): string {
  for (const text of systemTexts(request)) {
    const match = workingDir.exec(text);
    const dir = (match?.[1] ?? match?.[3])?.trim();
    if (dir && isAbsolute(dir) && dir.length <= 4096) return projectScope(dir, match?.[2] === "true");
  }
  return clientScope(client);
}

/** Everything the client itself put in the prompt as context (CLAUDE.md, environment, system prompt). */
export function clientContext(request: Pick<MessagesRequest, "system" | "messages">): string {
  return systemTexts(request).join("\n");
}
