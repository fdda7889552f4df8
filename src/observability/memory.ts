import { readFileSync } from "node:fs";
import { totalmem } from "node:os";

// Memory pressure, sampled once a second off the request path, so load shedding and readiness
// read a number instead of asking the kernel on every request.

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  /** Resident memory over the memory limit (the cgroup's when the process is confined, else physical). */
  rssFraction: number;
  /**
   * JavaScript heap in use over the same limit. Bun's heap has no fixed ceiling (the
   * heap_size_limit it reports grows with the heap), so the process's memory limit is the one.
   */
  heapFraction: number;
}

function memoryLimit(): number {
  for (const path of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    try {
      const value = Number(readFileSync(path, "utf8").trim());
      // "max" reads as NaN; cgroup v1 reports "unlimited" as a huge number.
      if (Number.isFinite(value) && value > 0 && value < totalmem()) return value;
    } catch {
      // Not confined, or not Linux.
    }
  }
  return totalmem();
}

export class MemoryMonitor {
  private readonly limit = memoryLimit();
  private timer: ReturnType<typeof setInterval> | undefined;
  current: MemorySample;

  constructor(intervalMs = 1000) {
    this.current = this.sample();
    this.timer = setInterval(() => {
      this.current = this.sample();
    }, intervalMs);
    this.timer.unref();
  }

  sample(): MemorySample {
    const usage = process.memoryUsage();
    return {
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
      rssFraction: usage.rss / this.limit,
      heapFraction: usage.heapUsed / this.limit,
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
