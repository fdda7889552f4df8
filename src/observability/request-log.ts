import { logFormat, logger } from "./logger.ts";
import { round6 } from "./metrics/gateway-metrics.ts";
import type { Redactor } from "./redact.ts";
import type { RequestFacts } from "./request-facts.ts";

function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)}ms` : `${Math.round(value * 10) / 10}ms`;
}

/**
 * `POST /v1/messages 200 openrouter/gpt-4o 812ms (first byte 95ms) 9000→40 tok $0.0123 cache=miss client=ops route="…" id=…`:
 * what a person scanning a terminal needs first, first; the failure reason when there is one.
 */
function prettyLine(facts: RequestFacts, redactor: Redactor): string {
  const parts = [`${facts.method} ${facts.path} ${facts.status}`];
  if (facts.provider !== undefined) parts.push(facts.model ? `${facts.provider}/${facts.model}` : facts.provider);
  parts.push(facts.firstByteMs !== undefined && facts.stream ? `${ms(facts.latencyMs)} (first byte ${ms(facts.firstByteMs)})` : ms(facts.latencyMs));
  if (facts.inputTokens !== undefined || facts.outputTokens !== undefined) {
    parts.push(`${facts.inputTokens ?? 0}→${facts.outputTokens ?? 0} tok${facts.tokensEstimated ? " (estimated)" : ""}`);
  }
  if (facts.costUsd !== undefined) parts.push(`$${round6(facts.costUsd)}`);
  if (facts.cache !== undefined) parts.push(`cache=${facts.cache}`);
  if (facts.errorType !== undefined) parts.push(`error=${facts.errorType}${facts.errorMessage ? `: ${JSON.stringify(redactor.redact(facts.errorMessage.slice(0, 300)))}` : ""}`);
  if (facts.rejected !== undefined) parts.push(`rejected=${facts.rejected}`);
  parts.push(`client=${facts.client}`);
  if (facts.route !== undefined) parts.push(`route=${JSON.stringify(facts.route)}`);
  // Retries and fallbacks cost more than one call upstream: worth seeing at a glance.
  if (facts.upstreamCalls !== undefined && facts.upstreamCalls > 1) parts.push(`upstream_calls=${facts.upstreamCalls}`);
  parts.push(`id=${facts.requestId}`);
  return parts.join(" ");
}

/** The same facts as structured fields, for LOG_FORMAT=json. */
function jsonFields(facts: RequestFacts, redactor: Redactor): Record<string, unknown> {
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
  if (facts.optimize !== undefined) {
    fields.optimize = facts.optimize.profile;
    if (facts.optimize.actions.length > 0) fields.optimize_actions = facts.optimize.actions.join(",");
  }
  if (facts.errorType !== undefined) fields.error = facts.errorType;
  if (facts.errorMessage !== undefined) fields.error_message = redactor.redact(facts.errorMessage.slice(0, 300));
  if (facts.rejected !== undefined) fields.rejected = facts.rejected;
  return fields;
}

/** One line per request; at LOG_LEVEL=debug the bodies too, with secrets redacted. */
export function logRequest(facts: RequestFacts, redactor: Redactor): void {
  const line = `${facts.method} ${facts.path} ${facts.status}`;
  // A terminal gets the facts in the message itself, one line; JSON logs get them as fields
  // (built only then: every request writes one of the two).
  const write = facts.status >= 500 ? logger.warn.bind(logger) : logger.info.bind(logger);
  if (logFormat() === "json") write(line, jsonFields(facts, redactor));
  else write(prettyLine(facts, redactor));
  if (facts.requestBody !== undefined || facts.responseBody !== undefined) {
    logger.debug(`${line} bodies`, {
      request_id: facts.requestId,
      ...(facts.requestHeaders ? { request_headers: facts.requestHeaders } : {}),
      ...(facts.requestBody !== undefined ? { request_body: redactor.redact(facts.requestBody) } : {}),
      ...(facts.responseBody !== undefined ? { response_body: redactor.redact(facts.responseBody) } : {}),
    });
  }
}
