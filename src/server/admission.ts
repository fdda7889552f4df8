import type { Context } from "hono";
import type { AppEnv } from "./context.ts";

type Headers = Record<string, string> | undefined;

/**
 * One check on a request before its handler (a key, the load, a rate limit): throws (or
 * rejects) to refuse it, or returns headers its answer carries. A check that asks a store
 * shared by replicas answers with a promise; the others stay plain calls.
 */
export type AdmissionCheck = (c: Context<AppEnv>) => Headers | Promise<Headers>;

type Handler<R> = (c: Context<AppEnv>) => R;

const merged = (headers: Headers, added: Headers): Headers => (added ? (headers ? { ...headers, ...added } : added) : headers);

/**
 * Wraps a route's handler so that it runs the checks first, as plain calls: a Hono middleware
 * layer, and headers set on a response after it was built, each cost more than the checks
 * themselves. The headers they return are kept in `answerHeaders`, for the answer and for an
 * error alike.
 */
export function admitting(checks: AdmissionCheck[]): <R>(handler: Handler<R>) => Handler<R | Promise<Awaited<R>>> {
  if (checks.length === 0) return (handler) => handler;
  return (handler) => (c) => {
    let headers: Headers;
    for (const [i, check] of checks.entries()) {
      const added = check(c);
      if (added instanceof Promise) return finishAsync(c, checks.slice(i + 1), added.then((more) => merged(headers, more)), handler);
      headers = merged(headers, added);
    }
    if (headers) c.set("answerHeaders", headers);
    return handler(c);
  };
}

/** The rest of the checks once one answered with a promise. */
async function finishAsync<R>(c: Context<AppEnv>, rest: AdmissionCheck[], first: Promise<Headers>, handler: Handler<R>): Promise<Awaited<R>> {
  let headers = await first;
  for (const check of rest) headers = merged(headers, await check(c));
  if (headers) c.set("answerHeaders", headers);
  return await handler(c);
}
