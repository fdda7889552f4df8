import { readdirSync } from "node:fs";
import { join } from "node:path";
import { markdownTable, type BenchSection } from "./lib.ts";
import { removeBuiltBinary } from "../test/helpers/binary.ts";

// `bun run bench`: every bench/suites/*.ts in turn (one at a time, so they do not disturb each
// other's timings), each printed as a Markdown table. `bun run bench NAME...` runs only those;
// a suite that exports `onlyWhenNamed` (the 30-minute soak) runs only when named. Arguments
// starting with -- are the suites' own options (e.g. --minutes=3).

const suitesDir = join(import.meta.dir, "suites");
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const named = (f: string) => wanted.some((w) => f === w || f === `${w}.ts`);
const candidates = readdirSync(suitesDir)
  .filter((f) => f.endsWith(".ts"))
  .filter((f) => wanted.length === 0 || named(f))
  .sort();
const files: string[] = [];
for (const f of candidates) {
  const mod = (await import(join(suitesDir, f))) as { onlyWhenNamed?: boolean };
  if (mod.onlyWhenNamed !== true || named(f)) files.push(f);
}

if (files.length === 0) {
  process.stderr.write(`no bench suite matches ${wanted.join(", ")}\n`);
  process.exit(1);
}

let failed = 0;
for (const file of files) {
  const started = performance.now();
  try {
    const mod = (await import(join(suitesDir, file))) as { default?: () => Promise<BenchSection | BenchSection[]> };
    if (typeof mod.default !== "function") throw new Error("has no default export function");
    const sections = [await mod.default()].flat();
    const tables = sections.map(markdownTable).join("\n");
    process.stdout.write(`${tables}\n_${file}: ${((performance.now() - started) / 1000).toFixed(1)} s_\n\n`);
  } catch (error) {
    failed++;
    process.stdout.write(`## ${file}\n\nFAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n\n`);
  }
}
removeBuiltBinary();
process.exit(failed === 0 ? 0 : 1);
