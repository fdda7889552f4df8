import type { Config } from "../../config/schema.ts";

// What the wrapped command needs in its environment to talk to lynkr.

/**
 * ANTHROPIC_BASE_URL, and the credential Claude Code must present:
 * - with LYNKR_API_KEYS, one of them as ANTHROPIC_AUTH_TOKEN (sent as a bearer token, which the
 *   gateway takes and never forwards);
 * - with a provider other than Anthropic's pass-through (or an upstream key of lynkr's own),
 *   Claude Code still refuses to start ("Not logged in · Please run /login") unless it has some
 *   key: ANTHROPIC_API_KEY gets a placeholder that goes no further than lynkr;
 * - with MODEL_PROVIDER=anthropic and no upstream key, the user's own credentials (key or
 *   subscription) pass through: nothing is set.
 */
export function clientEnv(config: Config, env: Record<string, string | undefined>, url: string): Record<string, string> {
  const out: Record<string, string> = { ANTHROPIC_BASE_URL: url };
  const key = config.LYNKR_API_KEYS?.[0]?.key;
  if (key) {
    out.ANTHROPIC_AUTH_TOKEN = key;
    return out;
  }
  const passThrough = config.MODEL_PROVIDER === "anthropic" && !config.ANTHROPIC_UPSTREAM_API_KEY;
  if (!passThrough && !env.ANTHROPIC_API_KEY && !env.ANTHROPIC_AUTH_TOKEN) out.ANTHROPIC_API_KEY = "lynkr-wrap-placeholder";
  return out;
}
