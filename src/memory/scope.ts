import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ContentBlockParam, MessageParam, MessagesRequest } from "../anthropic/schema.ts";

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

function systemPromptTexts(system: MessagesRequest["system"]): string[] {
  if (typeof system === "string") return [system];
  return (system ?? []).map((block) => block.text);
}

/** A message's system texts: all of a role:"system" message, the reminders in a user message. */
function messageSystemTexts(message: MessageParam): string[] {
  if (message.role === "system") return texts(message.content);
  if (message.role === "user") return texts(message.content).flatMap((t) => t.match(/<system-reminder>[\s\S]*?<\/system-reminder>/g) ?? []);
  return [];
}

/** The system texts of a request: `system`, role:"system" messages, reminders in user messages. */
function systemTexts(request: Pick<MessagesRequest, "system" | "messages">): string[] {
  return [...systemPromptTexts(request.system), ...request.messages.flatMap(messageSystemTexts)];
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

function projectIn(text: string): string | undefined {
  const match = workingDir.exec(text);
  const dir = (match?.[1] ?? match?.[3])?.trim();
  return dir && isAbsolute(dir) && dir.length <= 4096 ? projectScope(dir, match?.[2] === "true") : undefined;
}

/**
 * How far a conversation's messages were read for its project, and the project found there.
 * Histories only grow, so the first project stated in them stays the first: a later turn reads
 * only the messages added since.
 */
export interface ScopeScan {
  scanned: number;
  project?: string;
}

/**
 * The request's project, else the client's default scope. The system prompt is read every time
 * (it is not history); the messages from where `scan` stopped, which it is moved to.
 */
export function scopeOf(request: Pick<MessagesRequest, "system" | "messages">, client: string, scan: ScopeScan = { scanned: 0 }): string {
  for (const text of systemPromptTexts(request.system)) {
    const project = projectIn(text);
    if (project) return project;
  }
  for (; scan.project === undefined && scan.scanned < request.messages.length; scan.scanned++) {
    const message = request.messages[scan.scanned] as MessageParam;
    for (const text of messageSystemTexts(message)) {
      scan.project ??= projectIn(text);
    }
  }
  return scan.project ?? clientScope(client);
}

/** Everything the client itself put in the prompt as context (CLAUDE.md, environment, system prompt). */
export function clientContext(request: Pick<MessagesRequest, "system" | "messages">): string {
  return systemTexts(request).join("\n");
}
