import { AnthropicError, ApiError } from "../anthropic/errors.ts";
import { logger } from "../observability/logger.ts";

/** Any thrown value as an AnthropicError; unexpected ones are logged and reported without internals. */
export function toAnthropicError(error: unknown, requestId: string): AnthropicError {
  if (error instanceof AnthropicError) return error;
  logger.error("unexpected error", { request_id: requestId, error: error instanceof Error ? error.stack : String(error) });
  return new ApiError("internal error in the gateway; see its log for this request id");
}

/** The one place errors become HTTP responses, in Anthropic's shape, with retry guidance. */
export function errorResponse(error: unknown, requestId: string): Response {
  const err = toAnthropicError(error, requestId);
  const headers = new Headers({ "content-type": "application/json", "request-id": requestId });
  for (const [name, value] of Object.entries(err.headers)) headers.set(name, value);
  // Claude Code retries a 401 ten times unless told not to; say it for everything no retry can fix.
  if (!err.shouldRetry) headers.set("x-should-retry", "false");
  return new Response(JSON.stringify(err.toBody(requestId)), { status: err.status, headers });
}
