import { AnthropicError, ApiError } from "./errors.ts";
import { logger } from "../observability/logger.ts";

/** Any thrown value as an AnthropicError; unexpected ones are logged and reported without internals. */
export function toAnthropicError(error: unknown, requestId: string): AnthropicError {
  if (error instanceof AnthropicError) return error;
  logger.error("unexpected error", { request_id: requestId, error: error instanceof Error ? error.stack : String(error) });
  return new ApiError("internal error in the gateway; see its log for this request id");
}
