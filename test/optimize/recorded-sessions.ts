import { readdirSync, readFileSync } from "node:fs";
import { messagesRequestSchema, type MessagesRequest } from "../../src/anthropic/schema.ts";
import { wireDir } from "../helpers/fake-upstream.ts";

// The recorded Claude Code sessions (test/fixtures/wire/claude-code-sessions), request by
// request, with the thread (session + agent) each belongs to.

export interface RecordedRequest {
  file: string;
  /** Session and agent: what lynkr keeps optimization state by. */
  thread: string;
  /** The thread's current history: after a compaction a new one starts (its first message differs). */
  conversation: string;
  request: MessagesRequest;
}

/** The first message's text: what tells a post-compaction history from the one before. */
function firstMessageText(request: MessagesRequest): string {
  const content = request.messages[0]?.content ?? "";
  return typeof content === "string" ? content : content.map((b) => (b.type === "text" ? String(b.text) : b.type)).join("\n");
}

const dir = `${wireDir}claude-code-sessions`;

export const recordedSessionNames: string[] = readdirSync(dir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

export function recordedSession(name: string): RecordedRequest[] {
  return readdirSync(`${dir}/${name}`)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(`${dir}/${name}/${file}`, "utf8")) as { headers: Record<string, string>; body: unknown };
      const session = raw.headers["x-claude-code-session-id"] ?? name;
      const agent = raw.headers["x-claude-code-agent-id"];
      const request = messagesRequestSchema.parse(raw.body);
      const thread = agent ? `${session}/${agent}` : session;
      return { file, thread, conversation: `${thread}/${Bun.hash(firstMessageText(request)).toString(16)}`, request };
    });
}

/**
 * The session with every tool result's text repeated `times` times: the recorded sessions are
 * short, and clearing only fires on conversations that come near the window.
 */
export function withLongToolResults(session: RecordedRequest[], times: number): RecordedRequest[] {
  const longer = (text: string) => Array.from({ length: times }, (_, i) => `${i + 1}: ${text}`).join("\n");
  return session.map((r) => ({
    ...r,
    request: {
      ...r.request,
      messages: r.request.messages.map((m) =>
        typeof m.content === "string"
          ? m
          : {
              ...m,
              content: m.content.map((b) => (b.type === "tool_result" && typeof b.content === "string" ? { ...b, content: longer(b.content) } : b)),
            },
      ),
    },
  }));
}
