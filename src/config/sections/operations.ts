import { z } from "zod";
import { bool, fraction, int, text } from "../fields.ts";

// Running lynkr for a team: who may call it (keys), how much (rate limits, budgets), when it
// protects itself (load shedding), what it remembers (prompt cache) and how health is probed.

export interface ClientKey {
  /** Shown in logs, metrics and errors instead of the key: `alice` from `alice:sk-…`, else `key-<hash>`. */
  name: string;
  key: string;
}

export interface KeyRateLimit {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

const keyName = /^[A-Za-z0-9_.-]{1,64}$/;

function keyId(key: string): string {
  return `key-${new Bun.CryptoHasher("sha256").update(key).digest("hex").slice(0, 8)}`;
}

/** `key` or `name:key`, comma-separated; values never appear in messages. */
const apiKeys = text().transform((value, ctx): ClientKey[] => {
  const keys: ClientKey[] = [];
  for (const [i, raw] of value.split(",").entries()) {
    const entry = raw.trim();
    if (entry === "") continue;
    const colon = entry.indexOf(":");
    const named = colon > 0 && keyName.test(entry.slice(0, colon));
    const key = named ? entry.slice(colon + 1).trim() : entry;
    if (key.length < 8) {
      ctx.addIssue({ code: "custom", message: `entry ${i + 1} is shorter than 8 characters; expected "key" or "name:key", comma-separated` });
      continue;
    }
    keys.push({ name: named ? entry.slice(0, colon) : keyId(key), key });
  }
  if (keys.length === 0) ctx.addIssue({ code: "custom", message: 'expected at least one key ("key" or "name:key", comma-separated)' });
  return keys;
});

/** `name=REQUESTS/TOKENS` per minute, comma-separated; 0 means unlimited. */
const perKeyLimits = text().transform((value, ctx): Map<string, KeyRateLimit> => {
  const limits = new Map<string, KeyRateLimit>();
  for (const raw of value.split(",")) {
    const match = /^([A-Za-z0-9_.-]{1,64})=(\d+)\/(\d+)$/.exec(raw.trim());
    if (!match) {
      ctx.addIssue({ code: "custom", message: `"${raw.trim()}": expected name=REQUESTS/TOKENS per minute, e.g. alice=60/200000 (0 = unlimited)` });
      continue;
    }
    limits.set(match[1] as string, { requestsPerMinute: Number(match[2]), tokensPerMinute: Number(match[3]) });
  }
  return limits;
});

function usd() {
  return z
    .string()
    .trim()
    .regex(/^\d*\.?\d+$/, { error: "expected an amount in US dollars, e.g. 25 or 2.50" })
    .transform(Number)
    .optional();
}

export const operationsEnv = {
  /** Keys clients must present (x-api-key or Authorization: Bearer); unset = no authentication. */
  LYNKR_API_KEYS: apiKeys.optional(),
  LOAD_SHEDDING_ENABLED: bool(true),
  /** Requests in flight at which new ones are turned away with 529. */
  LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD: int(1000, 1),
  /** Resident memory as a fraction of the memory limit (cgroup, else physical). */
  LOAD_SHEDDING_MEMORY_THRESHOLD: fraction(0.85),
  /** JavaScript heap in use as a fraction of the memory limit (Bun's heap has no ceiling of its own). */
  LOAD_SHEDDING_HEAP_THRESHOLD: fraction(0.9),
  /** Per client (key, else IP address); 0 = unlimited. */
  RATE_LIMIT_REQUESTS_PER_MINUTE: int(0, 0),
  RATE_LIMIT_TOKENS_PER_MINUTE: int(0, 0),
  /** Per-key overrides: `name=REQUESTS/TOKENS`, names from LYNKR_API_KEYS. */
  RATE_LIMIT_BY_KEY: perKeyLimits.optional(),
  BUDGET_SESSION_USD: usd(),
  /** Per client (key, else IP address), per UTC day. */
  BUDGET_KEY_DAILY_USD: usd(),
  /** The whole gateway, per UTC day. */
  BUDGET_DAILY_USD: usd(),
  /** Budgets refuse models without a price (they would spend unseen) unless this is true. */
  BUDGET_ALLOW_UNPRICED: bool(false),
  PROMPT_CACHE_ENABLED: bool(true),
  PROMPT_CACHE_TTL_MS: int(300_000, 1),
  PROMPT_CACHE_MAX_ENTRIES: int(64, 1),
  /** How long `/health/ready?deep=true` reuses its provider checks (ms). */
  HEALTH_DEEP_CACHE_MS: int(5_000, 0),
};

type OperationsEnv = z.infer<z.ZodObject<typeof operationsEnv>>;

/** Cross-field problems, each naming the variable to fix. */
export function operationsProblems(env: OperationsEnv): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  const names = new Set((env.LYNKR_API_KEYS ?? []).map((k) => k.name));
  for (const name of env.RATE_LIMIT_BY_KEY?.keys() ?? []) {
    if (!names.has(name)) {
      problems.push({ variable: "RATE_LIMIT_BY_KEY", message: `"${name}" is not a key name from LYNKR_API_KEYS (name it there as ${name}:KEY)` });
    }
  }
  return problems;
}
