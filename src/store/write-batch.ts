import type { Database } from "bun:sqlite";
import { logger } from "../observability/logger.ts";

// Writes that may wait a moment (turn records, usage rows) go to SQLite together: one
// transaction per flush instead of one commit per request, which cost more than all the rest of
// recording a turn. A flush runs `flushMs` after the first pending write, or at once when
// `maxPending` are waiting, and on shutdown; a crash loses at most one window of them.

export interface BatchSettings {
  flushMs: number;
  maxPending: number;
}

export const defaultBatch: BatchSettings = { flushMs: 25, maxPending: 100 };

export class WriteBatch {
  private pending: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly db: Database,
    private readonly settings: BatchSettings = defaultBatch,
  ) {}

  add(write: () => void): void {
    this.pending.push(write);
    if (this.pending.length >= this.settings.maxPending) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.settings.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const writes = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const write of writes) {
        try {
          // Each write is its own savepoint (a nested transaction): one bad row costs only itself.
          this.db.transaction(write)();
        } catch (error) {
          logger.error("could not write a record", { error: String(error) });
        }
      }
    })();
  }
}
