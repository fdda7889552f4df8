import { type Context, Hono } from "hono";
import { NotFoundError } from "../anthropic/errors.ts";
import type { Gateway } from "../gateway.ts";
import { handleCountTokens } from "../pipeline/count-tokens.ts";
import { handleMessages } from "../pipeline/messages.ts";
import { handleModels } from "../pipeline/models.ts";
import { toAnthropicError } from "../pipeline/to-anthropic-error.ts";
import type { AppEnv } from "./context.ts";
import { errorResponse } from "./error-response.ts";
import { Health } from "./health.ts";
import { circuitBreakerMetrics, dashboardMetrics, observabilityMetrics, prometheusMetrics } from "./metrics-endpoints.ts";
import { dashboardPage } from "./dashboard/page.ts";
import { sessionFigures } from "./session-endpoint.ts";
import { admitting } from "./admission.ts";
import { memoryRoutes } from "./memory-routes.ts";
import { keyCheck } from "./middleware/auth.ts";
import { browserGuard } from "./middleware/browser-guard.ts";
import { loadCheck } from "./middleware/load-shedding.ts";
import { observe } from "./middleware/observe.ts";
import { rateLimitCheck } from "./middleware/rate-limit.ts";

export function createApp(gw: Gateway): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Operations (src/operations.ts): request id, log and metrics for every request; browsers'
  // requests refused (foreign Host or Origin, a body not sent as JSON); each API route then checks
  // its caller's key, the load and (for messages and counts) the caller's rate limit first.
  app.use(observe(gw.ops.metrics, gw.ops.redactor));
  app.use(browserGuard(gw.config));
  const keys = gw.config.LYNKR_API_KEYS ? [keyCheck(gw.config.LYNKR_API_KEYS)] : [];
  const load = gw.config.LOAD_SHEDDING_ENABLED ? [loadCheck(gw.config, gw.lifecycle, gw.ops.memory)] : [];
  const rate = gw.ops.limiter.active ? [rateLimitCheck(gw.ops.limiter)] : [];
  const turn = admitting([...keys, ...load, ...rate]);
  const api = admitting([...keys, ...load]);
  const keyed = admitting(keys);

  app.post(
    "/v1/messages",
    turn((c) => handleMessages(gw, c.req.raw, c.get("requestId"), c.get("facts"), c.get("answerHeaders"), () => c.env?.timeout?.(c.req.raw, 0))),
  );
  app.post("/v1/messages/count_tokens", turn((c) => handleCountTokens(gw, c.req.raw, c.get("requestId"))));
  app.get("/v1/models", api((c) => handleModels(gw, c.req.raw, c.get("requestId"))));
  memoryRoutes(app, gw, keyed);

  const health = new Health(gw);
  app.get("/health/live", (c) => health.live(c));
  app.get("/health/ready", (c) => health.ready(c));
  app.get("/metrics/prometheus", keyed((c) => prometheusMetrics(gw, c)));
  app.get("/metrics/observability", keyed((c) => observabilityMetrics(gw, c)));
  app.get("/metrics/circuit-breakers", keyed((c) => circuitBreakerMetrics(gw, c)));
  app.get("/metrics/dashboard", keyed((c) => dashboardMetrics(gw, c)));
  app.get("/v1/lynkr/sessions/:id", keyed((c) => sessionFigures(gw, c)));
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
