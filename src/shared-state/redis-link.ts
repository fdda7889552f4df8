import { RedisClient } from "bun";
import { logger } from "../observability/logger.ts";

// One replica's connection to Redis, and whether it is up. Bun's client neither retries nor
// queues here: a command while Redis is away fails at once (the caller falls back to local
// state) instead of waiting in a queue, and the link reconnects itself on a timer. Pub/sub needs
// a connection of its own; it is opened again on every reconnect.

/**
 * How long a command may take before the replica serves from its own state instead (a Redis
 * that hangs; one that is gone closes the connection, which is seen at once).
 */
const commandTimeoutMs = 2_000;
/** How often a replica that lost Redis tries again. */
const reconnectEveryMs = 500;

export class RedisLink {
  private client: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  private connecting: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private readonly channels = new Map<string, (message: string) => void>();
  private readonly onUp: (() => void)[] = [];
  private readonly onDown: (() => void)[] = [];
  private readonly scripts = new Map<string, string>();
  private readonly refusals = new Set<string>();
  /** Whether Redis answers: false from the first failed command until a reconnect succeeds. */
  up = false;

  constructor(private readonly url: string) {}

  /** Connects in the background; the replica serves with local state until this succeeds. */
  start(): void {
    void this.connect();
    this.timer = setInterval(() => {
      if (!this.up) void this.connect();
    }, reconnectEveryMs);
    this.timer.unref?.();
  }

  /** Runs `listener` each time the link comes (back) up: where counts reconcile. */
  whenUp(listener: () => void): void {
    this.onUp.push(listener);
  }

  /** Runs `listener` each time the link is lost. */
  whenDown(listener: () => void): void {
    this.onDown.push(listener);
  }

  /** Delivers `channel`'s messages from now on, across reconnects. */
  listen(channel: string, listener: (message: string) => void): void {
    this.channels.set(channel, listener);
    if (this.subscriber?.connected) void this.subscriber.subscribe(channel, listener).catch(() => this.down("subscribe failed"));
  }

  /** Runs a command; rejects (and marks the link down) when Redis does not answer in time. */
  async send(command: string, args: string[]): Promise<unknown> {
    const client = this.client;
    if (!this.up || !client) throw new Error("redis is unreachable");
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        client.send(command, args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis did not answer ${command} within ${commandTimeoutMs} ms`)), commandTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (isServerError(error)) this.refused(command, error);
      else this.down(String(error));
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a Lua script by its digest, loading it once per server (EVALSHA, then EVAL on NOSCRIPT). */
  async eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.scripts.get(script);
    if (sha === undefined) {
      sha = new Bun.CryptoHasher("sha1").update(script).digest("hex");
      this.scripts.set(script, sha);
    }
    try {
      return await this.send("EVALSHA", [sha, String(keys.length), ...keys, ...args]);
    } catch (error) {
      if (!isScriptMissing(error)) throw error;
      return await this.send("EVAL", [script, String(keys.length), ...keys, ...args]);
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.close();
  }

  private connect(): Promise<void> {
    this.connecting ??= (async () => {
      const options = { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: commandTimeoutMs };
      const client = new RedisClient(this.url, options);
      const subscriber = new RedisClient(this.url, options);
      try {
        await Promise.all([client.connect(), subscriber.connect()]);
        for (const [channel, listener] of this.channels) await subscriber.subscribe(channel, listener);
      } catch (error) {
        client.close();
        subscriber.close();
        logger.debug("redis is still unreachable", { error: String(error) });
        return;
      }
      if (this.stopped) {
        client.close();
        subscriber.close();
        return;
      }
      this.close();
      this.client = client;
      this.subscriber = subscriber;
      const lost = () => this.down("connection closed");
      client.onclose = lost;
      subscriber.onclose = lost;
      this.up = true;
      logger.info("shared state: redis is up");
      for (const listener of this.onUp) listener();
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Says once per kind of refusal that this replica falls back to its own state for it. */
  private refused(command: string, error: Error): void {
    if (isScriptMissing(error) || this.refusals.has(error.message) || this.refusals.size >= 16) return;
    this.refusals.add(error.message);
    logger.warn("shared state: redis refused a command; this replica uses its own state for it", { command, error: error.message });
  }

  private down(reason: string): void {
    if (!this.up) return;
    this.up = false;
    logger.warn("shared state: redis is unreachable; serving with this replica's own state until it is back", { reason });
    this.close();
    for (const listener of this.onDown) listener();
  }

  private close(): void {
    const { client, subscriber } = this;
    this.client = undefined;
    this.subscriber = undefined;
    for (const c of [client, subscriber]) {
      if (!c) continue;
      c.onclose = null;
      c.close();
    }
  }
}

/** An error reply: Redis is there but refused this command (its version, ACLs, memory). */
function isServerError(error: unknown): error is Error {
  return error instanceof Error && (error as Error & { code?: unknown }).code === "ERR_REDIS_SERVER_ERROR";
}

function isScriptMissing(error: unknown): boolean {
  return error instanceof Error && error.message.includes("NOSCRIPT");
}
