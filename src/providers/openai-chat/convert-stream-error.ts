import { AnthropicError, ApiError, errorTypeForStatus } from "../../anthropic/errors.ts";
import type { ChatChunk } from "./wire.ts";

/**
 * An error object inside a 200 stream (OpenRouter: `{"error":{"code":429,"message":…}}`) → the
 * Anthropic error it stands for: its code as the status where it is one, else an api_error.
 */
export function convertStreamError(error: NonNullable<ChatChunk["error"]>, provider: string): AnthropicError {
  const status = typeof error.code === "number" ? error.code : Number.parseInt(String(error.code ?? ""), 10);
  const message = error.message || `upstream ${provider} reported an error mid-stream`;
  if (Number.isInteger(status) && status >= 400 && status < 600) return new AnthropicError(errorTypeForStatus(status), message, { status });
  return new ApiError(message);
}
