import { readdirSync, readFileSync } from "node:fs";
import { messagesRequestSchema, type MessagesRequest } from "../../src/anthropic/schema.ts";
import { wireDir } from "./fake-upstream.ts";

// The recorded Claude Code sessions (test/fixtures/wire/claude-code-sessions), request by
// request, with the thread and the conversation each belongs to. Used by tests and the
// token-economy bench.

export interface RecordedRequest {
  /** The session's folder. */
  session: string;
  file: string;
  /** Path and query as the CLI sent them. */
  path: string;
  /** Headers as recorded (the API key redacted). */
  headers: Record<string, string>;
  /** The body exactly as sent (key order included). */
  body: { tools?: unknown[]; system?: unknown; messages: unknown[] };
  request: MessagesRequest;
  /** Session and agent: what lynkr keeps optimization state by. */
  thread: string;
  /** The thread's current history: after a compaction a new one starts (its first message differs). */
  conversation: string;
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
      const raw = JSON.parse(readFileSync(`${dir}/${name}/${file}`, "utf8")) as { url: string; headers: Record<string, string>; body: RecordedRequest["body"] };
      const session = raw.headers["x-claude-code-session-id"] ?? name;
      const agent = raw.headers["x-claude-code-agent-id"];
      const request = messagesRequestSchema.parse(raw.body);
      const thread = agent ? `${session}/${agent}` : session;
      const url = new URL(raw.url, "http://x");
      return {
        session: name,
        file,
        path: url.pathname + url.search,
        headers: raw.headers,
        body: raw.body,
        request,
        thread,
        conversation: `${thread}/${Bun.hash(firstMessageText(request)).toString(16)}`,
      };
    });
}
