import { logger } from "./logger.ts";
import { round6 } from "./metrics/gateway-metrics.ts";
import type { Redactor } from "./redact.ts";
import type { RequestFacts } from "./request-facts.ts";

/** One line per request; at LOG_LEVEL=debug the bodies too, with secrets redacted. */
export function logRequest(facts: RequestFacts, redactor: Redactor): void {
  const fields: Record<string, unknown> = {
    request_id: facts.requestId,
    method: facts.method,
    path: facts.path,
    status: facts.status,
    latency_ms: Math.round(facts.latencyMs * 10) / 10,
    client: facts.client,
  };
  if (facts.provider !== undefined) fields.provider = facts.provider;
  if (facts.model !== undefined) fields.model = facts.model;
  if (facts.route !== undefined) fields.route = facts.route;
  if (facts.upstreamCalls !== undefined) fields.upstream_calls = facts.upstreamCalls;
  if (facts.stream !== undefined) fields.stream = facts.stream;
  if (facts.firstByteMs !== undefined) fields.first_byte_ms = Math.round(facts.firstByteMs * 10) / 10;
  if (facts.inputTokens !== undefined) fields.input_tokens = facts.inputTokens;
  if (facts.outputTokens !== undefined) fields.output_tokens = facts.outputTokens;
  if (facts.tokensEstimated) fields.tokens_estimated = true;
  if (facts.costUsd !== undefined) fields.cost_usd = round6(facts.costUsd);
  if (facts.cache !== undefined) fields.cache = facts.cache;
  if (facts.errorType !== undefined) fields.error = facts.errorType;
  if (facts.rejected !== undefined) fields.rejected = facts.rejected;
  const line = `${facts.method} ${facts.path} ${facts.status}`;
  if (facts.status >= 500) logger.warn(line, fields);
  else logger.info(line, fields);
  if (facts.requestBody !== undefined || facts.responseBody !== undefined) {
    logger.debug(`${line} bodies`, {
      request_id: facts.requestId,
      ...(facts.requestHeaders ? { request_headers: facts.requestHeaders } : {}),
      ...(facts.requestBody !== undefined ? { request_body: redactor.redact(facts.requestBody) } : {}),
      ...(facts.responseBody !== undefined ? { response_body: redactor.redact(facts.responseBody) } : {}),
    });
  }
}
