import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Temp folders of a test run (databases, homes, configs), removed once the whole run is over
// (test/preload.ts): a gateway a test left running may still be writing to its folder until then,
// and a run that never removed them left 36,000 folders and 16 GB of databases in /tmp.

const made: string[] = [];

export function tempDir(prefix = "lynkr-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
