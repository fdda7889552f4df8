import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";

/**
 * One check on a request before its handler (a key, the load, a rate limit): throws to refuse
 * it, or returns headers for its answer.
 */
export type AdmissionCheck = (c: Context<AppEnv>) => Record<string, string> | undefined;

/**
 * The checks as plain calls in one middleware: a Hono middleware layer of its own per check cost
 * more than most checks do.
 */
export function admit(checks: AdmissionCheck[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let headers: Record<string, string>[] | undefined;
    for (const check of checks) {
      const added = check(c);
      if (added) (headers ??= []).push(added);
    }
    await next();
    if (headers) for (const added of headers) for (const [name, value] of Object.entries(added)) c.res.headers.set(name, value);
  };
}
