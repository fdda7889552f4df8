import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./run.ts";

// The standalone executable, built once per test process with the README's `bun run build`
// (into a temp folder, so a developer's dist/ is left alone), then copied alone into an empty
// folder: whatever runs it there has no node_modules and no sources next to it. The build folder
// goes right after the copy, the binary when the test run ends (test/preload.ts): each build is
// ~100 MB, and a day of runs filled the disk.

let built: Promise<string> | undefined;
let binaryDir: string | undefined;

export function buildBinary(): Promise<string> {
  built ??= (async () => {
    const outdir = mkdtempSync(join(tmpdir(), "lynkr-build-"));
    try {
      const { code, stdout, stderr } = await run(["bun", "run", "build", "--outdir", outdir]);
      if (code !== 0) throw new Error(`bun run build failed (exit ${code}):\n${stdout}${stderr}`);
      const alone = mkdtempSync(join(tmpdir(), "lynkr-bin-"));
      binaryDir = alone;
      const binary = join(alone, "lynkr");
      copyFileSync(join(outdir, "lynkr"), binary);
      return binary;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  })();
  return built;
}

/** Deletes the binary this test process built, if any. */
export function removeBuiltBinary(): void {
  if (binaryDir !== undefined) rmSync(binaryDir, { recursive: true, force: true });
}

/** A PATH with no Bun and no Node on it: only what a bare machine has for everything else. */
export const pathWithoutBun = "/nonexistent-no-bun";
