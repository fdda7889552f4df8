import { Database } from "bun:sqlite";
import { rowsOf, type RecordsOf } from "./storage-backends.ts";

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
export async function waitForTurns(where: Database | RecordsOf, sessionId: string, count: number, timeoutMs = 2_000): Promise<StoredTurn[]> {
  const deadline = Date.now() + timeoutMs;
  const records = where instanceof Database ? { db: where, postgres: undefined } : where;
  for (;;) {
    const turns = await rowsOf<StoredTurn>(records, `SELECT * FROM turns WHERE session_id = '${sessionId.replaceAll("'", "''")}' ORDER BY id`);
    if (turns.length >= count || Date.now() > deadline) return turns;
    await Bun.sleep(5);
  }
}
