import type { Config } from "./schema.ts";

// Which configuration a running lynkr serves, as a short hash: `lynkr wrap`, `start` and `doctor`
// compare it with their own to tell "this lynkr" from "another lynkr with a different
// configuration" on the same port. Secrets go into the hash, never out of it.

/** Where a gateway listens and how it logs are not what it does: those may differ and still match. */
const placement = new Set(["PORT", "HOST", "LOG_LEVEL", "LOG_FORMAT"]);

function plain(_key: string, value: unknown): unknown {
  if (value instanceof Map) return [...value.entries()];
  if (value instanceof Set) return [...value.values()];
  return value;
}

export function configFingerprint(config: Config, routingFile?: unknown): string {
  const entries = Object.entries(config)
    .filter(([name]) => !placement.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = JSON.stringify({ config: entries, routing: routingFile ?? null }, plain);
  return new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, 16);
}
