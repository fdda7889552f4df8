import type { CallContext } from "../providers/types.ts";

/** What a provider call knows of the client's request; `signal` is the client's unless given. */
export function callContext(req: Request, requestId: string, extra?: Partial<Pick<CallContext, "signal" | "clientBody" | "conversation">>): CallContext {
  return { signal: req.signal, requestId, clientHeaders: req.headers, search: new URL(req.url).search, ...extra };
}
