import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// `lynkr start` as a separate process (from source or a built binary): started, its listen URL
// read from its own start-up log, its output kept for assertions, stopped when done.

export interface LynkrProcess {
  url: string;
  pid: number;
  /** Everything it printed so far (stdout then stderr). */
  output(): string;
  stop(): Promise<number>;
}

export const repoRoot = new URL("../../", import.meta.url).pathname;

/** The command that runs lynkr from source, without Bun's own .env loading. */
export const lynkrFromSource = ["bun", "--no-env-file", join(repoRoot, "src/cli/main.ts")];

/**
 * Starts `command start ...args` with exactly `env` (PORT 0, loopback, JSON logs, this process's
 * PATH and HOME = `cwd` unless given) and resolves once it logs its URL; rejects with its output
 * if it exits or stays silent for `timeoutMs`.
 */
export async function spawnLynkr(command: string[], env: Record<string, string>, cwd: string, args: string[] = [], timeoutMs = 15_000): Promise<LynkrProcess> {
  const proc = Bun.spawn([...command, "start", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: cwd, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  const drain = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
  };
  let announced: ((url: string) => void) | undefined;
  const listening = new Promise<string>((resolve) => (announced = resolve));
  const stdoutDone = drain(proc.stdout, (t) => {
    out += t;
    // Searched only until found: a benchmark's gateway logs a line per request, and matching the
    // whole growing output on every chunk made this process compete with the gateway for CPU.
    if (!announced) return;
    const match = out.match(/listening on (http:\/\/[^\s"]+)/);
    if (match?.[1]) {
      announced(match[1]);
      announced = undefined;
    }
  });
  const stderrDone = drain(proc.stderr, (t) => (err += t));
  const url = await Promise.race([listening, proc.exited.then(() => undefined), Bun.sleep(timeoutMs).then(() => undefined)]);
  if (!url) {
    proc.kill("SIGKILL");
    throw new Error(`lynkr did not start (exit ${proc.exitCode}):\n${out}${err}`);
  }
  return {
    url,
    pid: proc.pid,
    output: () => out + err,
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await proc.exited;
      clearTimeout(timer);
      // Everything it printed before exiting is in output() once stop() resolves.
      await Promise.all([stdoutDone, stderrDone]);
      return code;
    },
  };
}

/** `lynkr start` from source in a fresh temp folder (its cwd and HOME), with its database there. */
export async function spawnLynkrInTempDir(env: Record<string, string>): Promise<LynkrProcess & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "lynkr-test-"));
  const lynkr = await spawnLynkr(lynkrFromSource, { SESSION_DB_PATH: join(dir, "lynkr.db"), ...env }, dir);
  return { ...lynkr, dir };
}
