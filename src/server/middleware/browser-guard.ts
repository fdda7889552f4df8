import type { MiddlewareHandler } from "hono";
import { PermissionError, UnsupportedMediaTypeError } from "../../anthropic/errors.ts";
import type { Config } from "../../config/schema.ts";
import type { AppEnv } from "../context.ts";

// A web page can POST `text/plain` to 127.0.0.1 without a CORS preflight (spending the operator's
// credits), and a DNS-rebinding page reaches the gateway under its own host name and can read the
// answers. Claude Code and the SDKs send `content-type: application/json`, the address they were
// given as `Host`, and no `Origin`: requests that differ are refused before any work.

const loopbackNames = ["localhost", "127.0.0.1", "[::1]"];
const wildcardBinds = new Set(["0.0.0.0", "::", "[::]"]);

/** The host names the gateway answers to; undefined when any is allowed. */
export function allowedHosts(config: Pick<Config, "HOST" | "LYNKR_ALLOWED_HOSTS">): Set<string> | undefined {
  const extra = config.LYNKR_ALLOWED_HOSTS ?? [];
  if (extra.includes("*")) return undefined;
  const bound = config.HOST.toLowerCase();
  // Bound to every interface, the gateway has no one name to check: it answers to any unless
  // LYNKR_ALLOWED_HOSTS names them (start-up requires LYNKR_API_KEYS there, which a page lacks).
  if (wildcardBinds.has(bound) && extra.length === 0) return undefined;
  const hosts = new Set([...loopbackNames, ...extra]);
  if (!wildcardBinds.has(bound)) hosts.add(bound.includes(":") && !bound.startsWith("[") ? `[${bound}]` : bound);
  return hosts;
}

/** `Host` less its port, lower-cased; an IPv6 literal keeps its brackets. */
function hostName(header: string): string {
  const host = header.trim().toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

// JSON, or JSON Lines for a memory import: none of them is a type a page may send without a CORS
// preflight (text/plain, form encodings), which is the point.
const jsonTypes = new Set(["application/json", "application/jsonl", "application/x-ndjson"]);

function isJson(contentType: string | null): boolean {
  return jsonTypes.has(contentType?.split(";")[0]?.trim().toLowerCase() ?? "");
}

export function browserGuard(config: Pick<Config, "HOST" | "LYNKR_ALLOWED_HOSTS" | "LYNKR_ALLOWED_ORIGINS">): MiddlewareHandler<AppEnv> {
  const hosts = allowedHosts(config);
  const origins = config.LYNKR_ALLOWED_ORIGINS ?? [];
  const anyOrigin = origins.includes("*");
  return async (c, next) => {
    const headers = c.req.raw.headers;
    const host = headers.get("host");
    // Browsers always send Host; only a bare HTTP/1.0 client or an in-process call goes without.
    if (hosts && host !== null && !hosts.has(hostName(host))) {
      c.get("facts").rejected = "foreign_host";
      throw new PermissionError(
        `this lynkr gateway does not answer to Host ${JSON.stringify(host)}: ` +
          `address it as ${[...hosts].join(", ")}, or add the name to LYNKR_ALLOWED_HOSTS`,
      );
    }
    const origin = headers.get("origin");
    if (origin !== null && !anyOrigin && !origins.includes(origin.trim().toLowerCase())) {
      c.get("facts").rejected = "foreign_origin";
      throw new PermissionError(
        `requests from the web page at ${JSON.stringify(origin)} are refused: browsers may reach this lynkr gateway only from an origin in LYNKR_ALLOWED_ORIGINS`,
      );
    }
    if (c.req.method === "POST" && !isJson(headers.get("content-type"))) {
      throw new UnsupportedMediaTypeError(
        `content-type ${JSON.stringify(headers.get("content-type") ?? "")} is not accepted: send the body as application/json`,
      );
    }
    await next();
  };
}
