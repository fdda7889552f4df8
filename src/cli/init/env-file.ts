import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

// The .env file `lynkr init` writes. It holds API keys: only its owner may read it, from the
// moment it exists (written under a temporary name with mode 0600, then renamed into place).

/** A value in the quotes that need no escaping, as src/config/load.ts (node's parseEnv) reads them. */
export function quoteEnvValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error("a value cannot span lines");
  for (const quote of ["'", '"', "`"]) if (!value.includes(quote)) return `${quote}${value}${quote}`;
  throw new Error("a value cannot contain all three quote characters ' \" `");
}

export function renderEnvFile(values: Record<string, string>, header: string[]): string {
  const lines = header.map((line) => `# ${line}`);
  for (const [name, value] of Object.entries(values)) lines.push(`${name}=${quoteEnvValue(value)}`);
  return `${lines.join("\n")}\n`;
}

/** Writes `text` to `path` with mode 0600 (its folder 0700 when created); returns a staged path to commit or discard. */
export function stageEnvFile(path: string, text: string): { staged: string; commit: () => void; discard: () => void } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const staged = `${path}.${process.pid}.tmp`;
  writeFileSync(staged, text, { mode: 0o600, flag: "wx" });
  // The mode given at creation is reduced by the umask; 0600 must hold whatever it is.
  chmodSync(staged, 0o600);
  return {
    staged,
    commit: () => renameSync(staged, path),
    discard: () => rmSync(staged, { force: true }),
  };
}
