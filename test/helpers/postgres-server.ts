import { chmodSync, chownSync, existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort, type LoopbackServer } from "./ports.ts";
import { tempDir } from "./gateway.ts";
import { run } from "./run.ts";

// A real PostgreSQL (Debian's `postgresql` package) in a temp folder, on 127.0.0.1 and a free
// port, trust authentication on loopback only. PostgreSQL refuses to run as root: as root the
// cluster belongs to the `postgres` user the package creates, and its tools run through
// `runuser`. A test that needs it fails when the binaries are missing: `.ci/run` installs them.

export type PostgresServer = LoopbackServer;

/** Debian keeps the server tools under /usr/lib/postgresql/<major>/bin, off PATH. */
function binDir(): string {
  const onPath = Bun.which("pg_ctl");
  if (onPath && Bun.which("initdb")) return join(onPath, "..");
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) if (existsSync(join(root, major, "bin", "pg_ctl"))) return join(root, major, "bin");
  throw new Error("PostgreSQL is not installed: apt-get install -y postgresql (the CI installs it via .ci/run)");
}

function asOwner(command: string[]): string[] {
  if (process.getuid?.() !== 0) return command;
  const runuser = Bun.which("runuser");
  if (!runuser) throw new Error("running as root needs runuser (util-linux) to start PostgreSQL as the postgres user");
  return [runuser, "-u", "postgres", "--", ...command];
}

async function must(command: string[], what: string): Promise<void> {
  const result = await run(command, { cwd: "/", env: { PATH: process.env.PATH ?? "", LC_ALL: "C" } });
  if (result.code !== 0) throw new Error(`${what} failed (${result.code}): ${result.stderr || result.stdout}`);
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = binDir();
  const dir = tempDir("lynkr-pg-");
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const owner = await run(["id", "-u", "postgres"], { env: { PATH: process.env.PATH ?? "" } });
    const group = await run(["id", "-g", "postgres"], { env: { PATH: process.env.PATH ?? "" } });
    if (owner.code !== 0) throw new Error("running as root needs the postgres user (the postgresql package creates it)");
    chownSync(dir, Number(owner.stdout.trim()), Number(group.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  const port = freePort();
  await must(asOwner([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]), "initdb");
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => must(asOwner([join(bin, "pg_ctl"), "-D", data, "-o", options, "-l", join(dir, "server.log"), "-w", "-t", "30", "start"]), "pg_ctl start");
  const stop = () => must(asOwner([join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]), "pg_ctl stop");
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await start();
      running = true;
    },
    async stop() {
      await stop();
      running = false;
    },
    async close() {
      if (running) await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
