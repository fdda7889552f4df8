import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildBinary } from "../helpers/binary.ts";
import { tempDir } from "../helpers/gateway.ts";
import { spawnLynkr, type LynkrProcess } from "../helpers/lynkr-process.ts";

// The built binary as the fault suite attacks it: its own temp folder and database, and its
// resident memory read from /proc.

export interface BinaryGateway extends LynkrProcess {
  dir: string;
  dbPath: string;
}

/** `lynkr start` from the built binary, with its database in a fresh temp folder (or `dir`). */
export async function startBinaryGateway(env: Record<string, string>, dir = tempDir("lynkr-fault-")): Promise<BinaryGateway> {
  const binary = await buildBinary();
  const dbPath = join(dir, "lynkr.db");
  const lynkr = await spawnLynkr([binary], { SESSION_DB_PATH: dbPath, PROMPT_CACHE_ENABLED: "false", ...env }, dir, [], 30_000);
  return { ...lynkr, dir, dbPath };
}

/** Resident memory of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** Polls /health/live every 100 ms until stopped; resolves with the worst latency seen (ms) and any failure. */
export function watchLiveness(url: string): { stop(): Promise<{ worstMs: number; failures: string[] }> } {
  let running = true;
  let worstMs = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(10_000) });
        await res.text();
        if (res.status !== 200) failures.push(`status ${res.status}`);
      } catch (error) {
        failures.push(String(error));
      }
      worstMs = Math.max(worstMs, performance.now() - started);
      await Bun.sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { worstMs, failures };
    },
  };
}
