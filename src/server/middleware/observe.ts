import { LogLevels } from "consola";
import type { MiddlewareHandler } from "hono";
import { logger } from "../../observability/logger.ts";
import type { GatewayMetrics } from "../../observability/metrics/gateway-metrics.ts";
import { redactedHeaders, type Redactor } from "../../observability/redact.ts";
import { logRequest } from "../../observability/request-log.ts";
import { RequestFacts } from "../../observability/request-facts.ts";
import type { AppEnv } from "../context.ts";
import { requestIdFor } from "../request-id.ts";

// Gives each request its id and opens its facts; once the request is over (its stream
// included), writes its log line and records its metrics, after the answer went out.

const knownPaths = new Set([
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/models",
  "/health/live",
  "/health/ready",
  "/metrics/prometheus",
  "/metrics/observability",
  "/metrics/circuit-breakers",
  "/metrics/dashboard",
  "/dashboard",
]);

export function peerAddress(c: { env: AppEnv["Bindings"]; req: { raw: Request } }): string {
  try {
    return c.env?.requestIP?.(c.req.raw)?.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function observe(metrics: GatewayMetrics, redactor: Redactor): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = requestIdFor(c.req.raw.headers);
    c.set("requestId", requestId);
    const path = knownPaths.has(c.req.path) ? c.req.path : "other";
    const facts = new RequestFacts(requestId, c.req.method, path, `ip:${peerAddress(c)}`);
    c.set("facts", facts);
    const debug = logger.level >= LogLevels.debug;
    if (debug && c.req.method === "POST") {
      facts.requestHeaders = redactedHeaders(c.req.raw.headers, redactor);
      facts.requestBody = await c.req.raw.clone().text();
    }
    await next();
    // API answers and errors carry it already; probes and metrics get it here.
    if (!c.res.headers.has("request-id")) c.res.headers.set("request-id", requestId);
    if (facts.status === 0) facts.status = c.res.status;
    if (debug && facts.responseBody === undefined && c.res.headers.get("content-type")?.includes("json")) {
      facts.responseBody = await c.res.clone().text();
    }
    // After the answer went out: the log line never delays it.
    facts.whenDone(() =>
      setImmediate(() => {
        metrics.record(facts);
        logRequest(facts, redactor);
      }),
    );
  };
}
