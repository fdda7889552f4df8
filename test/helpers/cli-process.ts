import type { Subprocess } from "bun";
import { join } from "node:path";
import { repoRoot, tempDir } from "./gateway.ts";

// `lynkr start` as a real process, for what only a process shows: signals, exit codes, its log.

export interface GatewayProcess {
  url: string;
  dir: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code; the output is complete by then. */
  exited(): Promise<number>;
}

export async function spawnGateway(env: Record<string, string>, args: string[] = []): Promise<GatewayProcess> {
  const dir = tempDir();
  const proc = Bun.spawn(["bun", "--no-env-file", join(repoRoot, "src/cli/main.ts"), "start", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: dir, PORT: "0", LOG_FORMAT: "json", SESSION_DB_PATH: join(dir, "lynkr.db"), ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const decoder = new TextDecoder();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const done = Promise.all([drain(proc.stdout), drain(proc.stderr)]);
  const deadline = Date.now() + 10_000;
  let url: string | undefined;
  while (!url) {
    url = /lynkr listening on (http:\/\/\S+?)"/.exec(text)?.[1];
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`lynkr did not start:\n${text}`);
    await Bun.sleep(10);
  }
  return {
    url,
    dir,
    proc,
    output: () => text,
    exited: async () => {
      const code = await proc.exited;
      await done;
      return code;
    },
  };
}
