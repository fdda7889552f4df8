import type { RequestFacts } from "../observability/request-facts.ts";

/** What Hono carries per request: Bun's server (for the peer address) and what middleware learned. */
export type AppEnv = {
  Bindings: { requestIP?(request: Request): { address: string } | null } | undefined;
  Variables: {
    requestId: string;
    facts: RequestFacts;
    /** Headers admission gave this request's answer (rate-limit state), error or not. */
    answerHeaders?: Record<string, string>;
  };
};
