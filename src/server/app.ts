import { type Context, Hono } from "hono";
import { NotFoundError } from "../anthropic/errors.ts";
import { countTokensRequestSchema } from "../anthropic/schema.ts";
import { countTokens } from "../pipeline/count-tokens.ts";
import { listModels } from "../pipeline/models.ts";
import { admitting } from "./admission.ts";
import { callContext } from "./call-context.ts";
import type { AppEnv } from "./context.ts";
import { errorResponse } from "./error-response.ts";
import { Health } from "./health.ts";
import { toAnthropicError } from "../anthropic/to-anthropic-error.ts";
import { dashboardPage } from "./dashboard/page.ts";
import { sessionFigures } from "./session-endpoint.ts";
import { memoryRoutes } from "./memory-routes.ts";
import { messagesRoute } from "./messages-route.ts";
import { circuitBreakerMetrics, dashboardMetrics, observabilityMetrics, prometheusMetrics } from "./metrics-endpoints.ts";
import { keyCheck } from "./middleware/auth.ts";
import { browserGuard } from "./middleware/browser-guard.ts";
import { loadCheck } from "./middleware/load-shedding.ts";
import { observe } from "./middleware/observe.ts";
import { rateLimitCheck } from "./middleware/rate-limit.ts";
import type { ServerParts } from "./parts.ts";
import { readJsonBody } from "./read-body.ts";

export type HttpApp = Hono<AppEnv>;

export function createApp(parts: ServerParts): HttpApp {
  const { settings, router } = parts;
  const app = new Hono<AppEnv>();

  // Request id, log and metrics for every request; browsers' requests refused (foreign Host or
  // Origin, a body not sent as JSON); each API route then checks its caller's key, the load and
  // (for messages and counts) the caller's rate limit first.
  app.use(observe(parts.metrics, parts.redactor));
  app.use(browserGuard(settings));
  const keys = settings.LYNKR_API_KEYS ? [keyCheck(settings.LYNKR_API_KEYS)] : [];
  const load = settings.LOAD_SHEDDING_ENABLED ? [loadCheck(settings, parts.lifecycle, parts.memoryMonitor)] : [];
  const rate = parts.limiter.active ? [rateLimitCheck(parts.limiter)] : [];
  const turn = admitting([...keys, ...load, ...rate]);
  const api = admitting([...keys, ...load]);
  const keyed = admitting(keys);

  const messages = messagesRoute(parts.pipeline, parts.lifecycle, settings);
  app.post(
    "/v1/messages",
    // Bun's read timeout is lifted once the body is in: the upstream may take minutes to answer.
    turn((c) => messages(c.req.raw, c.get("requestId"), c.get("facts"), c.get("answerHeaders"), () => c.env?.timeout?.(c.req.raw, 0))),
  );
  app.post(
    "/v1/messages/count_tokens",
    turn(async (c) => {
      const requestId = c.get("requestId");
      const { body, text } = await readJsonBody(c.req.raw, countTokensRequestSchema, settings.MAX_REQUEST_BODY_BYTES);
      const { count, estimated } = await countTokens(router.primary, body, callContext(c.req.raw, requestId, { clientBody: text }));
      const headers: Record<string, string> = { "content-type": "application/json", "request-id": requestId };
      if (estimated) headers["x-lynkr-token-count"] = "estimated";
      return new Response(JSON.stringify(count), { headers });
    }),
  );
  app.get(
    "/v1/models",
    api(async (c) => {
      const requestId = c.get("requestId");
      const list = await listModels(router.providers, callContext(c.req.raw, requestId));
      return new Response(JSON.stringify(list), { headers: { "content-type": "application/json", "request-id": requestId } });
    }),
  );
  memoryRoutes(app, parts, keyed);

  const health = new Health(parts);
  app.get("/health/live", (c) => health.live(c));
  app.get("/health/ready", (c) => health.ready(c));
  app.get("/metrics/prometheus", keyed((c) => prometheusMetrics(parts, c)));
  app.get("/metrics/observability", keyed((c) => observabilityMetrics(parts, c)));
  app.get("/metrics/circuit-breakers", keyed((c) => circuitBreakerMetrics(parts, c)));
  app.get("/metrics/dashboard", keyed((c) => dashboardMetrics(parts, c)));
  app.get("/v1/lynkr/sessions/:id", keyed((c) => sessionFigures(parts, c)));
  // The page itself holds no data: it asks for the key and sends it with each JSON poll.
  app.get("/dashboard", (c) => dashboardPage(c));

  const noRoute = (c: Context<AppEnv>) =>
    errorResponse(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`), c.get("requestId"));
  // Without a key, a guarded prefix does not even say which routes it has.
  const keyedNoRoute = keyed(noRoute);
  app.notFound((c) => (/^\/(v1|metrics)\//.test(c.req.path) ? keyedNoRoute(c) : noRoute(c)));
  app.onError((error, c) => {
    const facts = c.get("facts");
    // Refusals before routing (a bad body, say) have their reason logged too.
    if (facts && facts.errorType === undefined) {
      const err = toAnthropicError(error, c.get("requestId"));
      facts.errorType = err.type;
      facts.errorMessage = err.message;
    }
    return errorResponse(error, c.get("requestId"), c.get("answerHeaders"));
  });
  return app;
}
