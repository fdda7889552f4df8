import type { RequestFacts } from "../observability/request-facts.ts";

/** What Hono carries per request: Bun's server (for the peer address) and what middleware learned. */
export type AppEnv = {
  Bindings:
    | {
        requestIP?(request: Request): { address: string } | null;
        /** Bun's per-request idle timeout; 0 = none. */
        timeout?(request: Request, seconds: number): void;
      }
    | undefined;
  Variables: {
    requestId: string;
    facts: RequestFacts;
    /** Headers admission gave this request's answer (rate-limit state), error or not. */
    answerHeaders?: Record<string, string>;
  };
};
