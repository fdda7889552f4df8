import type { SQL, TransactionSQL } from "bun";
import { planTurn, TurnHasher, turnRow, type SessionRecorder, type StoredThread, type TurnRecord } from "../sessions.ts";
import { PgLink, PgWriter, type WriterSettings } from "./writer.ts";

// Sessions, threads and turns in PostgreSQL, as SessionStore keeps them in SQLite. A turn is
// written right after its answer's last event and before its response ends (outcome.ts's
// holdsEnd), so the client's next turn, on whichever replica, is written after it; the session
// row is locked first, so each turn reads the thread as the one before left it.

interface Pending {
  writeId: string;
  turn: TurnRecord;
  hashes: string[];
  now: number;
}

export class PgSessionStore implements SessionRecorder {
  private readonly writer: PgWriter<Pending>;
  private readonly hasher = new TurnHasher();

  constructor(
    sql: SQL,
    link?: PgLink,
    private readonly ackWithinMs = 5_000,
    settings?: WriterSettings,
  ) {
    this.writer = new PgWriter(sql, "turn records", (tx, items) => this.commit(tx, items), link, settings);
  }

  record(turn: TurnRecord): Promise<boolean> {
    // Hashed now, not in the flush (as with SQLite).
    return this.writer.acknowledged({ writeId: crypto.randomUUID(), turn, hashes: this.hasher.hashes(turn), now: Date.now() }, this.ackWithinMs, turn.requestId);
  }

  /** Waits (at most `ms`) for every queued turn. */
  flush(ms: number): Promise<boolean> {
    return this.writer.flush(ms);
  }

  /**
   * A batch in five statements, however many turns: which are already there (an earlier try
   * committed them), the sessions (locked until the commit, so each thread is read and moved by
   * one writer at a time), their threads, the turns, the threads as the turns left them.
   */
  private async commit(tx: TransactionSQL, items: Pending[]): Promise<void> {
    const done: { write_id: string }[] = await tx`SELECT write_id FROM turns WHERE write_id IN ${tx(items.map((i) => i.writeId))}`;
    const written = new Set(done.map((r) => r.write_id));
    // By session (in order within one), so two replicas' batches never wait on each other in a cycle.
    const todo = items
      .filter((i) => !written.has(i.writeId))
      .sort((a, b) => (a.turn.sessionId < b.turn.sessionId ? -1 : a.turn.sessionId > b.turn.sessionId ? 1 : 0));
    if (todo.length === 0) return;
    const sessions = new Map<string, { id: string; created_at: number; updated_at: number; turn_count: number }>();
    for (const { turn, now } of todo) {
      const session = sessions.get(turn.sessionId) ?? { id: turn.sessionId, created_at: now, updated_at: now, turn_count: 0 };
      session.updated_at = Math.max(session.updated_at, now);
      session.turn_count += 1;
      sessions.set(turn.sessionId, session);
    }
    const ids = [...sessions.keys()];
    await tx`INSERT INTO sessions ${tx([...sessions.values()])}
      ON CONFLICT (id) DO UPDATE SET updated_at = GREATEST(sessions.updated_at, excluded.updated_at), turn_count = sessions.turn_count + excluded.turn_count`;
    const stored: (StoredThread & { session_id: string; root_hash: string })[] =
      await tx`SELECT session_id, root_hash, history_len, history_hash FROM threads WHERE session_id IN ${tx(ids)}`;
    const threads = new Map(stored.map((t) => [`${t.session_id}\u0000${t.root_hash}`, t]));
    const moved = new Map<string, { session_id: string; root_hash: string; history_len: number; history_hash: string }>();
    const turns = todo.map(({ writeId, turn, hashes, now }) => {
      const root = hashes[0] ?? "empty";
      const key = `${turn.sessionId}\u0000${root}`;
      const plan = planTurn(turn, hashes, threads.get(key));
      if (plan.thread) {
        const thread = { session_id: turn.sessionId, root_hash: root, history_len: plan.thread.len, history_hash: plan.thread.hash };
        threads.set(key, thread);
        moved.set(key, thread);
      }
      return { write_id: writeId, ...turnRow(turn, plan, now) };
    });
    // In order: ids follow the turns, and a session's turns are read back by id.
    await tx`INSERT INTO turns ${tx(turns)}`;
    if (moved.size === 0) return;
    await tx`INSERT INTO threads ${tx([...moved.values()])}
      ON CONFLICT (session_id, root_hash) DO UPDATE SET history_len = excluded.history_len, history_hash = excluded.history_hash`;
  }
}
