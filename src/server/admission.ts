import type { Context } from "hono";
import type { AppEnv } from "./context.ts";

/**
 * One check on a request before its handler (a key, the load, a rate limit): throws to refuse
 * it, or returns headers its answer carries.
 */
export type AdmissionCheck = (c: Context<AppEnv>) => Record<string, string> | undefined;

type Handler<R> = (c: Context<AppEnv>) => R;

/**
 * Wraps a route's handler so that it runs the checks first, as plain calls: a Hono middleware
 * layer, and headers set on a response after it was built, each cost more than the checks
 * themselves. The headers they return are kept in `answerHeaders`, for the answer and for an
 * error alike.
 */
export function admitting(checks: AdmissionCheck[]): <R>(handler: Handler<R>) => Handler<R> {
  if (checks.length === 0) return (handler) => handler;
  return (handler) => (c) => {
    let headers: Record<string, string> | undefined;
    for (const check of checks) {
      const added = check(c);
      if (added) headers = headers ? { ...headers, ...added } : added;
    }
    if (headers) c.set("answerHeaders", headers);
    return handler(c);
  };
}
