import type { Step } from "../turn.ts";
import { sessionIdFor } from "./session-id.ts";

/** Names the turn's session: the client's, else a new one that has spent nothing yet. */
export const sessionStep: Step = {
  name: "session",
  run(turn) {
    turn.namedSession = sessionIdFor(turn.ctx.clientHeaders, turn.client);
    turn.sessionId = turn.namedSession ?? crypto.randomUUID();
    return undefined;
  },
};
