import { repoRoot } from "./lynkr-process.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The repository root unless given. */
  cwd?: string;
  /** Exactly this environment; the test process's own when left out. */
  env?: Record<string, string>;
  /** Killed (SIGTERM) after this long. */
  timeoutMs?: number;
}

/** Runs a command to its end with no standard input (no terminal), collecting its output. */
export async function run(cmd: string[], options: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd ?? repoRoot,
    env: options.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
