import type { MessagesRequest } from "../../anthropic/schema.ts";

// Claude Code sends `metadata.user_id` as a JSON string ({"device_id":…,"session_id":…});
// older versions used "user_<hash>_account_<uuid>_session_<uuid>".
const legacySession = /_session_([0-9a-f-]{8,})$/i;

/** The session the client names, if it names one. */
export function sessionIdFor(headers: Headers, request: Pick<MessagesRequest, "metadata">): string | undefined {
  const header = headers.get("x-claude-code-session-id");
  if (header) return header;
  const userId = request.metadata?.user_id;
  if (userId) {
    try {
      const parsed: unknown = JSON.parse(userId);
      if (parsed && typeof parsed === "object" && "session_id" in parsed && typeof parsed.session_id === "string" && parsed.session_id) {
        return parsed.session_id;
      }
    } catch {
      const legacy = legacySession.exec(userId);
      if (legacy?.[1]) return legacy[1];
    }
  }
  return undefined;
}
