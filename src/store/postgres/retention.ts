import type { SQL } from "bun";
import { pruneBatch, type Pruned } from "../retention.ts";

/** pruneBefore's deletes in PostgreSQL: small transactions, so a backlog never holds locks for long. */
export async function pgPruneBefore(sql: SQL, cutoff: number): Promise<Pruned> {
  const cutoffDay = new Date(cutoff).toISOString().slice(0, 10);
  const pruned: Pruned = { sessions: 0, usage: 0 };
  for (;;) {
    const ids: string[] = await sql.begin(async (tx) => {
      // SKIP LOCKED: a session a replica is writing a turn of right now waits for the next round.
      const rows: { id: string }[] = await tx`SELECT id FROM sessions WHERE updated_at < ${cutoff} LIMIT ${pruneBatch} FOR UPDATE SKIP LOCKED`;
      const old = rows.map((r) => r.id);
      if (old.length === 0) return old;
      await tx`DELETE FROM turns WHERE session_id IN ${tx(old)}`;
      await tx`DELETE FROM threads WHERE session_id IN ${tx(old)}`;
      await tx`DELETE FROM usage_totals WHERE scope = 'session' AND subject IN ${tx(old)}`;
      await tx`DELETE FROM sessions WHERE id IN ${tx(old)}`;
      return old;
    });
    if (ids.length === 0) break;
    pruned.sessions += ids.length;
  }
  for (;;) {
    const deleted = await sql`DELETE FROM usage WHERE id IN (SELECT id FROM usage WHERE day < ${cutoffDay} LIMIT ${pruneBatch * 10})`;
    pruned.usage += deleted.count;
    if (deleted.count === 0) break;
  }
  await sql`DELETE FROM usage_totals WHERE scope <> 'session' AND period < ${cutoffDay}`;
  return pruned;
}
