import { injectMemory } from "../../memory/inject.ts";
import type { MemoryService } from "../../memory/service.ts";
import type { Step } from "../turn.ts";

/** The session's memory block, before the cache key and the upstream see the request (memory/inject.ts). */
export function memoryStep(memory: MemoryService | undefined): Step {
  return {
    name: "memory",
    run(turn) {
      const { ctx } = turn;
      const memoryTurn = { sessionId: turn.namedSession, client: ctx.client, headers: ctx.clientHeaders };
      const injected = injectMemory(memory, { request: turn.request, clientBody: turn.body }, memoryTurn);
      turn.request = injected.request;
      turn.body = injected.clientBody;
      return undefined;
    },
  };
}
