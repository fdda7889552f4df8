import type { SQL, TransactionSQL } from "bun";
import { logger } from "../../observability/logger.ts";

// Writes to PostgreSQL go in batches (one transaction for whatever waited while the last one
// committed), and survive a lost connection: PostgreSQL restarting, a failover, a dropped
// socket. The batch is tried again after a pause that doubles up to a bound, for as long as it
// takes; what was queued stays queued in order. Every write carries its own id (write_id), so a
// batch whose COMMIT went through unanswered lands once when it is tried again.

/** One transaction's worth: writes `items` in order. */
export type CommitBatch<T> = (tx: TransactionSQL, items: T[]) => Promise<void>;

export interface WriterSettings {
  /** Most items in one transaction. */
  maxBatch: number;
  /** First pause after a lost connection, and the most any pause grows to. */
  retryFromMs: number;
  retryUpToMs: number;
}

export const defaultWriterSettings: WriterSettings = { maxBatch: 200, retryFromMs: 50, retryUpToMs: 2_000 };

interface Queued<T> {
  item: T;
  done: (written: boolean) => void;
}

// Connection failures and what PostgreSQL says while it shuts down, starts or breaks a lock
// cycle: the same write succeeds later. Anything else (a constraint, bad data) never will.
const transientCodes = new Set(["57P01", "57P02", "57P03", "53300", "40001", "40P01"]);

export function isTransient(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === "string" && /^ERR_POSTGRES_(CONNECTION|IDLE_TIMEOUT|LIFETIME_TIMEOUT|TLS)/.test(code)) return true;
  if (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/.test(code)) return true;
  return typeof errno === "string" && (errno.startsWith("08") || transientCodes.has(errno));
}

/** Whether a replica's connection to PostgreSQL is known lost: shared by its writers. */
export class PgLink {
  lost = false;
}

export class PgWriter<T> {
  private queue: Queued<T>[] = [];
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly sql: SQL,
    /** What the batch writes, for the log. */
    private readonly what: string,
    private readonly commit: CommitBatch<T>,
    private readonly link: PgLink = new PgLink(),
    private readonly settings: WriterSettings = defaultWriterSettings,
  ) {}

  /** Resolves true once the item is committed, false when it could never be (logged). */
  add(item: T): Promise<boolean> {
    return new Promise((done) => {
      this.queue.push({ item, done });
      this.running ??= this.drain();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * Adds the item; resolves once it is committed, or after `ms` (at once while the connection is
   * known lost): an answer waits that long for its records, then goes on while they stay queued.
   * `settled` runs once the item is written (or refused).
   */
  acknowledged(item: T, ms: number, requestId: string, settled?: () => void): Promise<boolean> {
    const written = settled ? this.add(item).finally(settled) : this.add(item);
    if (this.link.lost) return Promise.resolve(false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        logger.warn(`postgres: ${this.what} not committed yet; the answer goes on, they stay queued`, { request_id: requestId });
        resolve(false);
      }, ms);
    });
    return Promise.race([written, late]).finally(() => clearTimeout(timer));
  }

  /** Waits until everything queued is written, at most `ms`; says whether it all was. */
  async flush(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (this.running && Date.now() < until) await Promise.race([this.running, Bun.sleep(Math.max(1, Math.min(100, until - Date.now())))]);
    if (this.queue.length > 0) logger.error(`postgres: ${this.queue.length} ${this.what} not written before shutdown`);
    return this.queue.length === 0;
  }

  private async drain(): Promise<void> {
    let pause = this.settings.retryFromMs;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.settings.maxBatch);
        const outcome = await this.attempt(batch);
        if (outcome === "lost") {
          if (!this.failing) logger.warn(`postgres: connection lost; ${this.what} wait and are written when it is back`);
          this.failing = true;
          this.link.lost = true;
          await Bun.sleep(pause);
          pause = Math.min(pause * 2, this.settings.retryUpToMs);
          continue;
        }
        if (this.failing) logger.info(`postgres: connection back; ${this.what} written again`);
        this.failing = false;
        this.link.lost = false;
        pause = this.settings.retryFromMs;
      }
    } finally {
      this.running = undefined;
    }
  }

  /** Writes the batch, or each of it alone when one of them is refused; "lost": try again later. */
  private async attempt(batch: Queued<T>[]): Promise<"written" | "lost"> {
    try {
      await this.sql.begin((tx) => this.commit(tx, batch.map((q) => q.item)));
      this.settle(batch, true);
      return "written";
    } catch (error) {
      if (isTransient(error)) return "lost";
    }
    // One bad item fails the whole batch: each again on its own, so it costs only itself.
    for (const queued of batch) {
      try {
        await this.sql.begin((tx) => this.commit(tx, [queued.item]));
        this.settle([queued], true);
      } catch (error) {
        if (isTransient(error)) return "lost";
        logger.error(`postgres: could not write one of the ${this.what}`, { error: String(error) });
        this.settle([queued], false);
      }
    }
    return "written";
  }

  private settle(done: Queued<T>[], written: boolean): void {
    const gone = new Set(done);
    this.queue = this.queue.filter((q) => !gone.has(q));
    for (const q of done) q.done(written);
  }
}
