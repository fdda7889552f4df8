import { toAnthropicError } from "../anthropic/to-anthropic-error.ts";
import { RoutedError } from "../routing/call-route.ts";
import { setFailedRouteHeader } from "./route-headers.ts";

/**
 * The one place errors become HTTP responses, in Anthropic's shape, with retry guidance.
 * `answerHeaders` are what admission gave the request (its rate-limit state).
 */
export function errorResponse(error: unknown, requestId: string, answerHeaders?: Record<string, string>): Response {
  const err = toAnthropicError(error, requestId);
  // Admission's rate-limit state is the client's at this gateway: it wins over an upstream's.
  const headers = new Headers({ ...err.headers, ...answerHeaders, "content-type": "application/json", "request-id": requestId });
  if (err instanceof RoutedError) setFailedRouteHeader(headers, err.route);
  // Claude Code retries a 401 ten times unless told not to; say it for everything no retry can fix.
  if (!err.shouldRetry) headers.set("x-should-retry", "false");
  return new Response(JSON.stringify(err.toBody(requestId)), { status: err.status, headers });
}
