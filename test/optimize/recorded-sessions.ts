import type { RecordedRequest } from "../helpers/recorded-sessions.ts";

export { recordedSession, recordedSessionNames, type RecordedRequest } from "../helpers/recorded-sessions.ts";

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
