import { expect, test } from "bun:test";
import { sessionStep } from "../../../src/pipeline/steps/session.ts";
import { contextFor, request, turnFor } from "../turn-fixture.ts";

test("the session is the one Claude Code names in its header", () => {
  const turn = turnFor(request(), contextFor({ "x-claude-code-session-id": "from-header" }));
  expect(sessionStep.run(turn)).toBeUndefined();
  expect(turn.namedSession).toBe("from-header");
  expect(turn.sessionId).toBe("from-header");
});

test("else the one in metadata.user_id", () => {
  const turn = turnFor(request({ metadata: { user_id: JSON.stringify({ device_id: "d", session_id: "from-metadata" }) } }));
  sessionStep.run(turn);
  expect(turn.sessionId).toBe("from-metadata");
});

test("a turn that names none gets a new session of its own, marked as not named", () => {
  const first = turnFor();
  const second = turnFor();
  sessionStep.run(first);
  sessionStep.run(second);
  expect(first.namedSession).toBeUndefined();
  expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  expect(first.sessionId).not.toBe(second.sessionId);
});
