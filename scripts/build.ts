// Standalone executables of lynkr: `bun run build` for this machine (dist/lynkr), `bun run build:all`
// for every release target (dist/lynkr-<os>-<arch>) plus dist/SHA256SUMS, the files a release
// publishes and install.sh and the Homebrew formula verify.
//
//   bun scripts/build.ts                      dist/lynkr
//   bun scripts/build.ts --all                the four release targets and SHA256SUMS
//   bun scripts/build.ts --targets linux-x64 --outdir DIR    some of them, elsewhere (tests)

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const releaseTargets = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
export type ReleaseTarget = (typeof releaseTargets)[number];

export const assetName = (target: ReleaseTarget) => `lynkr-${target}`;

const repoRoot = resolve(import.meta.dir, "..");

/**
 * The binary must not pick up a .env or bunfig.toml from wherever it is started: lynkr reads its
 * own configuration (src/config/load.ts), and a stray bunfig could change how it runs. Bytecode
 * precompiled: parsing ~5 MB of JavaScript cost every start ~70 ms of CPU before the first answer
 * (issue 12's cold start); the binary grows by ~9 MB. ESM keeps main.ts's top-level await.
 */
const compileFlags = ["--compile", "--minify", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "--bytecode", "--format=esm"];

async function compile(outfile: string, target?: ReleaseTarget): Promise<void> {
  const cmd = ["bun", "build", join(repoRoot, "src/cli/main.ts"), ...compileFlags, "--outfile", outfile];
  // Bun fetches each foreign target's runtime once and caches it.
  if (target) cmd.push(`--target=bun-${target}`);
  const proc = Bun.spawn(cmd, { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`bun build for ${target ?? "this machine"} failed (exit ${code}):\n${stdout}${stderr}`);
}

export function sha256File(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** `sha256sum`'s format (two spaces, file name), which `sha256sum -c` and install.sh read. */
export function formatSums(entries: { file: string; sha256: string }[]): string {
  return entries.map((e) => `${e.sha256}  ${e.file}\n`).join("");
}

export async function buildRelease(outdir: string, targets: readonly ReleaseTarget[]): Promise<string[]> {
  mkdirSync(outdir, { recursive: true });
  const files = targets.map((target) => join(outdir, assetName(target)));
  // One at a time: each compile already uses every core, and each binary is ~100 MB.
  for (const [i, target] of targets.entries()) await compile(files[i] as string, target);
  writeFileSync(join(outdir, "SHA256SUMS"), formatSums(files.map((file) => ({ file: basename(file), sha256: sha256File(file) }))));
  return files;
}

function parseTargets(list: string): ReleaseTarget[] {
  const names = list.split(",").map((t) => t.trim()).filter(Boolean);
  const unknown = names.filter((t) => !(releaseTargets as readonly string[]).includes(t));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--targets: unknown ${unknown.join(", ") || "(empty)"}; expected some of: ${releaseTargets.join(", ")}`);
  }
  return names as ReleaseTarget[];
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { all: { type: "boolean" }, targets: { type: "string" }, outdir: { type: "string", default: "dist" } },
  });
  const outdir = resolve(repoRoot, values.outdir);
  try {
    if (!values.all && values.targets === undefined) {
      await compile(join(outdir, "lynkr"));
      console.log(`${join(outdir, "lynkr")}`);
    } else {
      const started = performance.now();
      const files = await buildRelease(outdir, values.targets === undefined ? releaseTargets : parseTargets(values.targets));
      for (const file of files) console.log(`${file}  ${(Bun.file(file).size / 1e6).toFixed(1)} MB`);
      console.log(`${join(outdir, "SHA256SUMS")}  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
