import { z } from "zod";
import { logger } from "../observability/logger.ts";
import type { CircuitBus, CircuitEvent } from "./ports.ts";
import type { RedisLink } from "./redis-link.ts";

// Circuit openings and closings, published to every replica on one channel: a provider that one
// replica saw fail is skipped by all of them within the message's trip (milliseconds). Probes
// stay each replica's own. A replica away from Redis misses what happens meanwhile and learns
// the next change; its own breakers keep working on their own.

const channel = "lynkr:circuits";
/** An event is under 400 bytes; anything much larger is not one of ours. */
const maxMessageBytes = 4096;

const eventSchema = z.object({
  origin: z.string().max(64),
  provider: z.string().max(256),
  state: z.enum(["open", "closed"]),
  at: z.number().finite(),
});

export class RedisCircuitBus implements CircuitBus {
  /** Tells this replica's own messages from the others'. */
  private readonly origin = crypto.randomUUID();

  constructor(private readonly link: RedisLink) {}

  publish(event: CircuitEvent): void {
    if (!this.link.up) return;
    this.link.send("PUBLISH", [channel, JSON.stringify({ origin: this.origin, ...event })]).catch(() => {});
  }

  subscribe(listener: (event: CircuitEvent) => void): void {
    this.link.listen(channel, (message) => {
      let parsed: unknown;
      try {
        parsed = message.length <= maxMessageBytes ? JSON.parse(message) : undefined;
      } catch {
        parsed = undefined;
      }
      const event = eventSchema.safeParse(parsed);
      if (!event.success) {
        logger.warn("shared state: ignored a malformed circuit event", { channel });
        return;
      }
      if (event.data.origin === this.origin) return;
      listener({ provider: event.data.provider, state: event.data.state, at: event.data.at });
    });
  }
}
