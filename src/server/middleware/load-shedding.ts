import { OverloadedError } from "../../anthropic/errors.ts";
import type { Config } from "../../config/schema.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { MemoryMonitor, MemorySample } from "../../observability/memory.ts";
import type { AdmissionCheck } from "../admission.ts";

// Under too much load, refuse new work at once with 529 overloaded_error and a retry-after:
// Claude Code backs off and retries, and the requests already running keep their memory.

export type SheddingSettings = Pick<
  Config,
  "LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD" | "LOAD_SHEDDING_MEMORY_THRESHOLD" | "LOAD_SHEDDING_HEAP_THRESHOLD"
>;

/** Which memory threshold the process is at or over, or undefined; readiness reports the same. */
export function memoryPressure(
  settings: Pick<SheddingSettings, "LOAD_SHEDDING_MEMORY_THRESHOLD" | "LOAD_SHEDDING_HEAP_THRESHOLD">,
  memory: MemorySample,
): string | undefined {
  if (memory.rssFraction >= settings.LOAD_SHEDDING_MEMORY_THRESHOLD) {
    return `memory at ${Math.round(memory.rssFraction * 100)}% of its limit (LOAD_SHEDDING_MEMORY_THRESHOLD=${settings.LOAD_SHEDDING_MEMORY_THRESHOLD})`;
  }
  if (memory.heapFraction >= settings.LOAD_SHEDDING_HEAP_THRESHOLD) {
    return `heap at ${Math.round(memory.heapFraction * 100)}% of its limit (LOAD_SHEDDING_HEAP_THRESHOLD=${settings.LOAD_SHEDDING_HEAP_THRESHOLD})`;
  }
  return undefined;
}

/** Why a new request should be refused now, or undefined. Reads counters only. */
export function overloadReason(settings: SheddingSettings, lifecycle: Lifecycle, memory: MemoryMonitor): string | undefined {
  if (lifecycle.active >= settings.LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD) {
    return `${lifecycle.active} requests in flight (LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD=${settings.LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD})`;
  }
  return memoryPressure(settings, memory.current);
}

export function loadCheck(settings: SheddingSettings, lifecycle: Lifecycle, memory: MemoryMonitor): AdmissionCheck {
  return (c) => {
    const reason = overloadReason(settings, lifecycle, memory);
    if (reason) {
      c.get("facts").rejected = "overloaded";
      throw new OverloadedError(`lynkr is overloaded: ${reason}; retry shortly`, { headers: { "retry-after": "2" } });
    }
    return undefined;
  };
}
