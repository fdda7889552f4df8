import { threadKey } from "../../optimize/threads.ts";
import type { Step } from "../turn.ts";
import { sessionIdFor } from "./session-id.ts";

/**
 * Names the turn's session (the client's, else a new one that has spent nothing yet) and its
 * conversation: the session and the agent of a subagent, what optimization keeps state by and
 * upstream prefix caches are steered by.
 */
export const sessionStep: Step = {
  name: "session",
  run(turn) {
    turn.namedSession = sessionIdFor(turn.ctx.clientHeaders, turn.client);
    turn.sessionId = turn.namedSession ?? crypto.randomUUID();
    turn.conversation = threadKey(turn.namedSession, turn.ctx.clientHeaders.get("x-claude-code-agent-id"));
    return undefined;
  },
};
