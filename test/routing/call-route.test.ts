import { expect, test } from "bun:test";
import { InvalidRequestError } from "../../src/anthropic/errors.ts";
import type { MessagesRequest } from "../../src/anthropic/schema.ts";
import type { CallContext, Provider } from "../../src/providers/types.ts";
import { BreakerRegistry } from "../../src/routing/breaker-registry.ts";
import { callRoute } from "../../src/routing/call-route.ts";
import { RoutingEvents } from "../../src/routing/events.ts";
import { RetryBudget } from "../../src/routing/retry-budget.ts";
import type { Router, RoutingSettings } from "../../src/routing/router.ts";

// Exceptions raised inside lynkr before the upstream was reached (a translation that throws, a
// schema lynkr cannot convert) are not the provider's fault: no retry, no failover, no breaker.

const settings: RoutingSettings = {
  retry: { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 10 },
  retryBudget: { percent: 20, min: 3 },
  breaker: { failureThreshold: 1, successThreshold: 1, timeoutMs: 60_000 },
  fallbackEnabled: true,
};

function provider(name: string, stream: Provider["stream"]): Provider & { calls: number } {
  const p = {
    name,
    kind: "anthropic",
    model: undefined,
    endpoint: "http://127.0.0.1:1",
    calls: 0,
    stream: (request: MessagesRequest, ctx: CallContext) => {
      p.calls++;
      return stream(request, ctx);
    },
    listModels: async () => [],
  };
  return p;
}

function routerOf(providers: Provider[]): Router {
  const breakers = new BreakerRegistry(settings.breaker, () => {});
  const budgets = new Map<string, RetryBudget>();
  const router: Router = {
    primary: providers[0]!,
    providers,
    events: new RoutingEvents(),
    settings,
    breakerFor: (name, credential) => breakers.get(name, credential),
    retryBudgetFor: (name) => budgets.get(name) ?? budgets.set(name, new RetryBudget(settings.retryBudget)).get(name)!,
    circuits: () => breakers.list(providers.map((p) => p.name)),
    route: () => ({ chain: providers.map((p) => ({ provider: p })), rule: "default", reason: "rule default" }),
    call: (req, c) => callRoute(router, router.route(req), req, c),
    prepare: async () => {},
  };
  return router;
}

const request: MessagesRequest = { model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] };
const ctx = (): CallContext => ({ signal: new AbortController().signal, requestId: "req_test", clientHeaders: new Headers(), search: "" });

for (const [what, thrown] of [
  ["a bug (TypeError) in a translation", new TypeError("Cannot read properties of undefined (reading 'type')")],
  ["a schema lynkr cannot translate (400)", new InvalidRequestError("tools.0.input_schema: lynkr cannot translate $dynamicRef")],
] as const) {
  test(`${what}: thrown as it is, not retried, not failed over, the circuit stays closed`, async () => {
    const broken = provider("broken", async () => {
      throw thrown;
    });
    const backup = provider("backup", async () => {
      throw new Error("the backup must not be called");
    });
    const router = routerOf([broken, backup]);
    const error = await callRoute(router, router.route(request), request, ctx()).catch((e: unknown) => e);
    expect(error instanceof Error && error.message).toBe(thrown.message);
    expect([broken.calls, backup.calls]).toEqual([1, 0]);
    expect(router.circuits().map((c) => c.state)).toEqual(["closed", "closed"]);
  });
}
