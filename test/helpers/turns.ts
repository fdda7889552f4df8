import type { Database } from "bun:sqlite";

export interface StoredTurn {
  id: number;
  session_id: string;
  request_id: string;
  provider: string;
  model: string | null;
  status: number;
  stop_reason: string | null;
  new_messages: string;
  history_offset: number;
  input_tokens: number | null;
  output_tokens: number | null;
}

/**
 * A session's stored turns, once there are at least `count` of them: turns are written just
 * after the answer went out, so a test that has read the answer may be a moment early.
 */
export async function waitForTurns(db: Database, sessionId: string, count: number, timeoutMs = 2_000): Promise<StoredTurn[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const turns = db.query<StoredTurn, [string]>("SELECT * FROM turns WHERE session_id = ? ORDER BY id").all(sessionId);
    if (turns.length >= count || Date.now() > deadline) return turns;
    await Bun.sleep(5);
  }
}
