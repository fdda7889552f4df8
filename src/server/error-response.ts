import { toAnthropicError } from "../pipeline/to-anthropic-error.ts";

/**
 * The one place errors become HTTP responses, in Anthropic's shape, with retry guidance.
 * `answerHeaders` are what admission gave the request (its rate-limit state).
 */
export function errorResponse(error: unknown, requestId: string, answerHeaders?: Record<string, string>): Response {
  const err = toAnthropicError(error, requestId);
  const headers = new Headers({ ...answerHeaders, "content-type": "application/json", "request-id": requestId });
  for (const [name, value] of Object.entries(err.headers)) headers.set(name, value);
  // Claude Code retries a 401 ten times unless told not to; say it for everything no retry can fix.
  if (!err.shouldRetry) headers.set("x-should-retry", "false");
  return new Response(JSON.stringify(err.toBody(requestId)), { status: err.status, headers });
}
