import { injectMemory, wantsMemory } from "../../memory/inject.ts";
import type { MemoryService } from "../../memory/service.ts";
import type { Step } from "../turn.ts";

/**
 * The session's memory block, before the cache key and the upstream see the request
 * (memory/inject.ts). A request that gets none (memory off, no session, opted out) does not wait.
 */
export function memoryStep(memory: MemoryService | undefined): Step {
  return {
    name: "memory",
    run(turn) {
      const { ctx } = turn;
      const memoryTurn = { sessionId: turn.namedSession, client: ctx.client, headers: ctx.clientHeaders };
      if (!wantsMemory(memory, memoryTurn)) return undefined;
      return injectMemory(memory, { request: turn.request, clientBody: turn.body }, memoryTurn).then((injected) => {
        turn.request = injected.request;
        turn.body = injected.clientBody;
        return undefined;
      });
    },
  };
}
