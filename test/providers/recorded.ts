import { messagesRequestSchema, type MessagesRequest } from "../../src/anthropic/schema.ts";
import { readWire } from "../helpers/fake-upstream.ts";

// Recorded traffic for the conversions' own tests: Claude Code's requests (read through the
// gateway's request schema, as the server reads them) and upstream answers (test/fixtures/wire/upstream).

/** A recorded Claude Code request body, e.g. "claude-code-2.1.328-request.json" or a session file. */
export async function claudeCodeRequest(path: string): Promise<MessagesRequest> {
  const recorded = JSON.parse(await readWire(path)) as { body: unknown };
  return messagesRequestSchema.parse(recorded.body);
}

/** The fresh-session main-loop request: 3 system blocks, 12 tools, a role:"system" message. */
export const freshRequest = () => claudeCodeRequest("claude-code-2.1.328-request.json");

/** The last request of a two-run session: tool_use/tool_result pairs, parallel calls, a signed thinking block. */
export const sessionRequest = () => claudeCodeRequest("claude-code-sessions/refactor-two-runs/008-anthropic-RUN-2-t1.json");

/** The JSON objects of a recorded upstream body, one per line (Ollama NDJSON, `.chunks.txt`). */
export async function recordedLines(path: string): Promise<unknown[]> {
  const text = await readWire(`upstream/${path}`);
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as unknown);
}

/** A recorded non-streaming upstream body. */
export async function recordedJson(path: string): Promise<unknown> {
  return JSON.parse(await readWire(`upstream/${path}`)) as unknown;
}
