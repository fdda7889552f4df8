import type { Database } from "bun:sqlite";
import { logger } from "../observability/logger.ts";

// SESSION_RETENTION_DAYS: prompts and answers are private code, and a busy gateway writes
// hundreds of bytes a request; what is older than the retention goes, at start and every hour.
// Deletes run in small transactions so a large backlog never holds the writer lock for long.

const dayMs = 86_400_000;
/** Sessions deleted per transaction; usage rows ten times as many. */
export const pruneBatch = 500;
const everyMs = 3_600_000;

export interface Pruned {
  sessions: number;
  usage: number;
}

/** Deletes sessions (threads, turns, session totals) last used before `cutoff`, and older usage rows and daily totals. */
export function pruneBefore(db: Database, cutoff: number): Pruned {
  const cutoffDay = new Date(cutoff).toISOString().slice(0, 10);
  const oldSessions = db.query<{ id: string }, [number, number]>("SELECT id FROM sessions WHERE updated_at < ? LIMIT ?");
  const deleteTurns = db.query("DELETE FROM turns WHERE session_id = ?");
  const deleteThreads = db.query("DELETE FROM threads WHERE session_id = ?");
  const deleteTotals = db.query("DELETE FROM usage_totals WHERE scope = 'session' AND subject = ?");
  const deleteSession = db.query("DELETE FROM sessions WHERE id = ?");
  const deleteUsage = db.query("DELETE FROM usage WHERE id IN (SELECT id FROM usage WHERE day < ? LIMIT ?)");
  const pruned: Pruned = { sessions: 0, usage: 0 };
  for (;;) {
    const ids = oldSessions.all(cutoff, pruneBatch);
    if (ids.length === 0) break;
    db.transaction(() => {
      for (const { id } of ids) {
        deleteTurns.run(id);
        deleteThreads.run(id);
        deleteTotals.run(id);
        deleteSession.run(id);
      }
    })();
    pruned.sessions += ids.length;
  }
  for (;;) {
    const { changes } = deleteUsage.run(cutoffDay, pruneBatch * 10);
    pruned.usage += changes;
    if (changes === 0) break;
  }
  db.query("DELETE FROM usage_totals WHERE scope != 'session' AND period < ?").run(cutoffDay);
  return pruned;
}

/**
 * Prunes now and then every hour with `prune` (SQLite's pruneBefore, or PostgreSQL's);
 * `stop()` before the database closes: it waits for a prune under way. Days 0: keeps everything.
 */
export function startRetention(
  prune: (cutoff: number) => Pruned | Promise<Pruned>,
  days: number,
  now: () => number = Date.now,
): { stop(): Promise<void> } {
  if (days <= 0) return { stop: async () => {} };
  let running: Promise<void> | undefined;
  const run = async () => {
    try {
      const pruned = await prune(now() - days * dayMs);
      if (pruned.sessions + pruned.usage > 0) logger.info("retention: pruned old records", { ...pruned, retention_days: days });
    } catch (error) {
      logger.error("retention: could not prune", { error: String(error) });
    }
  };
  const start = () => {
    running ??= run().finally(() => {
      running = undefined;
    });
  };
  start();
  const timer = setInterval(start, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
