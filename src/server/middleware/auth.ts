import { AuthenticationError } from "../../anthropic/errors.ts";
import type { Config } from "../../config/schema.ts";
import type { ClientKey } from "../../config/sections/operations.ts";
import type { AdmissionCheck } from "../admission.ts";

// LYNKR_API_KEYS: a client presents one as `x-api-key` or `Authorization: Bearer`. The header
// that carried it is removed from the request, so it is never forwarded upstream as if it were
// the client's provider credentials (nor logged). Without keys every caller is let in and known
// by its IP address.

export class KeyRing {
  /**
   * Each key by a keyed hash of it, with a seed no client knows: a lookup's time depends only on
   * whether that hash matched (which guessing cannot steer), not on how much of a key a guess
   * got right; a match is then confirmed in constant time. SHA-256 would do the same at ten
   * times the cost on every request.
   */
  private readonly byHash = new Map<bigint, ClientKey>();
  private readonly seed = crypto.getRandomValues(new BigUint64Array(1))[0] ?? 0n;

  constructor(keys: readonly ClientKey[]) {
    for (const k of keys) {
      const hash = Bun.hash.wyhash(k.key, this.seed);
      if (!this.byHash.has(hash)) this.byHash.set(hash, k);
    }
  }

  /** The key's name; undefined for an unknown key. */
  nameOf(presented: string): string | undefined {
    const k = this.byHash.get(Bun.hash.wyhash(presented, this.seed));
    return k && sameText(k.key, presented) ? k.name : undefined;
  }
}

/** Equality whose time depends on the lengths only. */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % (b.length || 1));
  return diff === 0;
}

function bearer(authorization: string | null): string | undefined {
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  return match?.[1]?.trim();
}

/** The gateway key a request presents: its name, and every header that carries a valid key; undefined if none does. */
export function presentedKey(ring: KeyRing, headers: Headers): { name: string; headers: string[] } | undefined {
  const apiKey = headers.get("x-api-key");
  const token = bearer(headers.get("authorization"));
  const viaApiKey = apiKey ? ring.nameOf(apiKey) : undefined;
  const viaBearer = token ? ring.nameOf(token) : undefined;
  const name = viaApiKey ?? viaBearer;
  if (name === undefined) return undefined;
  return { name, headers: [...(viaApiKey ? ["x-api-key"] : []), ...(viaBearer ? ["authorization"] : [])] };
}

export function keyCheck(keys: readonly ClientKey[]): AdmissionCheck {
  const ring = new KeyRing(keys);
  return (c) => {
    const headers = c.req.raw.headers;
    const key = presentedKey(ring, headers);
    if (key === undefined) {
      c.get("facts").rejected = "unauthenticated";
      throw new AuthenticationError(
        headers.get("x-api-key") || bearer(headers.get("authorization"))
          ? "invalid API key: this lynkr gateway accepts only the keys in its LYNKR_API_KEYS"
          : "this lynkr gateway requires an API key: send one of its LYNKR_API_KEYS as x-api-key or Authorization: Bearer",
      );
    }
    for (const name of key.headers) headers.delete(name);
    c.get("facts").client = key.name;
    return undefined;
  };
}

/** Whether binding `host` keeps the gateway on this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Why start-up must refuse: reachable from other machines, with no key required. */
export function exposureProblem(host: string, keys: readonly ClientKey[] | undefined, allowUnauthenticated: boolean): string | undefined {
  if (keys || allowUnauthenticated || isLoopbackHost(host)) return undefined;
  return (
    `HOST=${host} makes lynkr reachable from other machines, and LYNKR_API_KEYS is not set: anyone who can reach it could spend your provider credits. ` +
    "Set LYNKR_API_KEYS (clients send one as x-api-key or Authorization: Bearer), bind HOST=127.0.0.1, " +
    "or pass --allow-unauthenticated if something in front of lynkr already authenticates"
  );
}

/** A start-up warning when gateway keys leave an Anthropic upstream without credentials of its own. */
export function credentialsWarning(config: Pick<Config, "LYNKR_API_KEYS" | "MODEL_PROVIDER" | "ANTHROPIC_UPSTREAM_API_KEY">): string | undefined {
  if (!config.LYNKR_API_KEYS || config.MODEL_PROVIDER !== "anthropic" || config.ANTHROPIC_UPSTREAM_API_KEY) return undefined;
  return (
    "LYNKR_API_KEYS is set but ANTHROPIC_UPSTREAM_API_KEY is not: a client's lynkr key is never forwarded, " +
    "so Anthropic only sees the client's other credential header, if it sends one. Set ANTHROPIC_UPSTREAM_API_KEY."
  );
}
