import type { Config } from "../config/schema.ts";

// Secrets out of anything lynkr writes: the exact values of every configured key, token or
// password (the environment's and each routing-file provider's), plus credential shapes a client
// or an upstream's error text may carry (bearer tokens, sk-… keys).

const secretName = /KEY|TOKEN|SECRET|PASSWORD/;
const shapes: RegExp[] = [
  /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /("(?:x-api-key|api[-_]?key|authorization|password|secret|token)"\s*:\s*")[^"]*(")/gi,
];
/**
 * What every match of a shape contains (case aside): a line without any (nearly every line) is
 * spared the three scans. Replacing a value writes "[REDACTED]", which holds none of them.
 */
const shapeHint = /bearer|sk-|"(?:x-api-key|api[-_]?key|authorization|password|secret|token)"/i;

/** Every setting whose name says it holds a secret (the names the constructor scans for). */
type SecretSettingName = Extract<keyof Config, `${string}${"KEY" | "TOKEN" | "SECRET" | "PASSWORD"}${string}`>;

/** What the Redactor reads: the secret-named settings, and the URLs that may carry a password. */
export type RedactorSettings = Pick<Config, SecretSettingName | "LYNKR_REDIS_URL" | "LYNKR_DATABASE_URL">;

export class Redactor {
  private readonly values: string[];

  /** `providers`: the settings of the routing file's named providers, keys of their own included. */
  constructor(config: RedactorSettings, providers: Iterable<RedactorSettings> = []) {
    const values = new Set<string>();
    for (const key of config.LYNKR_API_KEYS ?? []) values.add(key.key);
    // Redis and PostgreSQL URLs may carry a password (redis://:password@host): never in a log line either.
    for (const url of [config.LYNKR_REDIS_URL, config.LYNKR_DATABASE_URL]) {
      const password = url ? new URL(url).password : "";
      for (const form of [password, decodeURIComponent(password)]) if (form.length >= 6) values.add(form);
    }
    for (const settings of [config, ...providers]) {
      for (const [name, value] of Object.entries(settings)) {
        if (secretName.test(name) && typeof value === "string" && value.length >= 6) values.add(value);
      }
    }
    // Longest first, so a key that contains another is removed whole.
    this.values = [...values].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const value of this.values) out = out.replaceAll(value, "[REDACTED]");
    if (!shapeHint.test(out)) return out;
    for (const shape of shapes) {
      out = out.replace(shape, (_match, before?: string, after?: string) =>
        typeof before === "string" ? `${before}[REDACTED]${typeof after === "string" ? after : ""}` : "[REDACTED]",
      );
    }
    return out;
  }
}

const sensitiveHeaders = new Set(["x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"]);

/** Headers as a plain object for the debug log, credentials masked. */
export function redactedHeaders(headers: Headers, redactor: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = sensitiveHeaders.has(name.toLowerCase()) ? "[REDACTED]" : redactor.redact(value);
  });
  return out;
}
