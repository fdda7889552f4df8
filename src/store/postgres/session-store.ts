import type { SQL, TransactionSQL } from "bun";
import { planTurn, TurnHasher, type SessionRecorder, type StoredThread, type TurnRecord } from "../sessions.ts";
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

  private async commit(tx: TransactionSQL, items: Pending[]): Promise<void> {
    // By session (in order within one), so two replicas' batches never wait on each other in a cycle.
    const ordered = [...items].sort((a, b) => (a.turn.sessionId < b.turn.sessionId ? -1 : a.turn.sessionId > b.turn.sessionId ? 1 : 0));
    for (const item of ordered) await this.write(tx, item);
  }

  private async write(tx: TransactionSQL, { writeId, turn, hashes, now }: Pending): Promise<void> {
    const root = hashes[0] ?? "empty";
    // Locks the session's row until the commit: its thread is read and moved by one writer at a time.
    await tx`INSERT INTO sessions (id, created_at, updated_at, turn_count) VALUES (${turn.sessionId}, ${now}, ${now}, 0)
      ON CONFLICT (id) DO UPDATE SET updated_at = GREATEST(sessions.updated_at, excluded.updated_at)`;
    // A try whose commit went through unanswered: this turn is already there.
    const done: unknown[] = await tx`SELECT 1 FROM turns WHERE write_id = ${writeId}`;
    if (done.length > 0) return;
    await tx`UPDATE sessions SET turn_count = turn_count + 1 WHERE id = ${turn.sessionId}`;
    const threads: StoredThread[] = await tx`SELECT history_len, history_hash FROM threads WHERE session_id = ${turn.sessionId} AND root_hash = ${root}`;
    const plan = planTurn(turn, hashes, threads[0]);
    if (plan.thread) {
      await tx`INSERT INTO threads (session_id, root_hash, history_len, history_hash) VALUES (${turn.sessionId}, ${root}, ${plan.thread.len}, ${plan.thread.hash})
        ON CONFLICT (session_id, root_hash) DO UPDATE SET history_len = excluded.history_len, history_hash = excluded.history_hash`;
    }
    const usage = turn.response?.usage;
    await tx`INSERT INTO turns (write_id, session_id, request_id, created_at, provider, model, requested_model, stream, status,
        latency_ms, first_byte_ms, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens,
        stop_reason, new_messages, history_offset, response, error, route, fallbacks)
      VALUES (${writeId}, ${turn.sessionId}, ${turn.requestId}, ${now}, ${turn.provider}, ${turn.model ?? null}, ${turn.requestedModel},
        ${turn.stream}, ${turn.status}, ${turn.latencyMs}, ${turn.firstByteMs ?? null}, ${usage?.input_tokens ?? null},
        ${usage?.output_tokens ?? null}, ${usage?.cache_read_input_tokens ?? null}, ${usage?.cache_creation_input_tokens ?? null},
        ${turn.response?.stop_reason ?? null}, ${plan.newMessages}, ${plan.offset}, ${plan.response},
        ${turn.error ? JSON.stringify(turn.error) : null}, ${turn.route ?? null}, ${turn.fallbacks ?? 0})`;
  }
}
