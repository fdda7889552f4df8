import { z } from "zod";
import { AnthropicError, errorTypeForStatus, isAnthropicErrorType } from "../anthropic/errors.ts";

// Turns an upstream's non-2xx answer into the Anthropic error the client sees: the upstream's
// own wording (Claude Code shows a 400's message verbatim), its status family, and the headers
// that steer the client's retries.

const anthropicErrorBody = z.looseObject({
  type: z.literal("error"),
  error: z.looseObject({ type: z.string(), message: z.string() }),
});
const openAiErrorBody = z.looseObject({
  error: z.looseObject({ message: z.string(), type: z.string().nullish(), code: z.unknown() }),
});
const plainErrorBody = z.looseObject({ error: z.string() });
const messageBody = z.looseObject({ message: z.string() });

const forwardedHeaders = ["retry-after", "x-should-retry", "retry-after-ms"];

export function retryHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of forwardedHeaders) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  for (const [name, value] of headers) {
    if (name.startsWith("anthropic-ratelimit-")) out[name] = value;
  }
  return out;
}

export interface ParsedUpstreamError {
  message: string;
  /** The upstream's own Anthropic error type, when it spoke Anthropic's shape. */
  type?: string;
  /** OpenAI-style error code, e.g. "context_length_exceeded". */
  code?: string;
}

export function parseErrorBody(text: string): ParsedUpstreamError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { message: text.trim().slice(0, 2000) };
  }
  // Some OpenAI-compatible servers wrap the error in an array.
  if (Array.isArray(json)) json = json[0];
  const anthropic = anthropicErrorBody.safeParse(json);
  if (anthropic.success) return { message: anthropic.data.error.message, type: anthropic.data.error.type };
  const openAi = openAiErrorBody.safeParse(json);
  if (openAi.success) {
    const code = openAi.data.error.code;
    return {
      message: openAi.data.error.message,
      code: typeof code === "string" ? code : openAi.data.error.type ?? undefined,
    };
  }
  const plain = plainErrorBody.safeParse(json);
  if (plain.success) return { message: plain.data.error };
  const withMessage = messageBody.safeParse(json);
  if (withMessage.success) return { message: withMessage.data.message };
  return { message: text.trim().slice(0, 2000) };
}

export async function upstreamError(response: Response, upstream: string): Promise<AnthropicError> {
  const text = await response.text().catch(() => "");
  const parsed = parseErrorBody(text);
  const type = isAnthropicErrorType(parsed.type) ? parsed.type : errorTypeForStatus(response.status);
  const message = parsed.message || `upstream ${upstream} answered HTTP ${response.status}`;
  return new AnthropicError(type, message, { status: response.status, headers: retryHeaders(response.headers) });
}
