import { z } from "zod";
import { AnthropicError, errorTypeForStatus, isAnthropicErrorType, promptTooLongError } from "../anthropic/errors.ts";

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

function retryHeaders(headers: Headers): Record<string, string> {
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

/**
 * What an accepted answer's headers pass on to the client: the retry and rate-limit headers,
 * and the first of `idHeaders` the upstream sent, as x-upstream-request-id.
 */
export function upstreamHeaders(headers: Headers, idHeaders: string[]): Record<string, string> {
  const out = retryHeaders(headers);
  const id = idHeaders.map((name) => headers.get(name)).find((value) => value !== null);
  if (id) out["x-upstream-request-id"] = id;
  return out;
}

export interface ParsedUpstreamError {
  message: string;
  /** The upstream's own Anthropic error type, when it spoke Anthropic's shape. */
  type?: string;
  /** OpenAI-style error code, e.g. "context_length_exceeded". */
  code?: string;
  /** The upstream's error object, for fields some servers add (llama.cpp's n_prompt_tokens, n_ctx). */
  details?: Record<string, unknown>;
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
      details: openAi.data.error,
    };
  }
  const plain = plainErrorBody.safeParse(json);
  if (plain.success) return { message: plain.data.error };
  const withMessage = messageBody.safeParse(json);
  if (withMessage.success) return { message: withMessage.data.message };
  return { message: text.trim().slice(0, 2000) };
}

/** What the caller knows about the prompt, for context-length errors that give no numbers. */
export interface PromptSizeHint {
  estimatedTokens(): number;
  contextWindow: number | undefined;
}

// The wordings OpenAI-compatible servers use when the prompt does not fit, with the numbers
// Claude Code needs to see ("prompt is too long: N tokens > M maximum") before it compacts.
const contextPatterns: { pattern: RegExp; tokens: number; maximum: number }[] = [
  // OpenAI, Azure, vLLM, DeepSeek, OpenRouter: "maximum context length is M tokens. However, you requested (about) N tokens"
  { pattern: /maximum context length is (\d+) tokens.*?(?:resulted in|requested(?: about)?) (\d+) tokens/is, tokens: 2, maximum: 1 },
  // Mistral: "Prompt contains N tokens ... too large for model with M maximum context length"
  { pattern: /prompt contains (\d+) tokens.*?with (\d+) maximum context length/is, tokens: 1, maximum: 2 },
  // Anthropic's own wording, passed through by gateways.
  { pattern: /prompt is too long: (\d+) tokens > (\d+) maximum/i, tokens: 1, maximum: 2 },
];
const contextCodes = new Set(["context_length_exceeded", "exceed_context_size_error", "string_above_max_length"]);

/** The prompt-too-long error for an upstream's context-length complaint, or undefined if it is another error. */
function contextLengthError(parsed: ParsedUpstreamError, hint?: PromptSizeHint): AnthropicError | undefined {
  for (const { pattern, tokens, maximum } of contextPatterns) {
    const match = pattern.exec(parsed.message);
    if (match) return promptTooLongError(Number(match[tokens]), Number(match[maximum]));
  }
  const nPrompt = parsed.details?.n_prompt_tokens;
  const nCtx = parsed.details?.n_ctx;
  if (typeof nPrompt === "number" && typeof nCtx === "number") return promptTooLongError(nPrompt, nCtx);
  const looksLikeContext =
    (parsed.code !== undefined && contextCodes.has(parsed.code)) || /context (length|size|window)/i.test(parsed.message);
  if (!looksLikeContext || !hint) return undefined;
  const estimated = hint.estimatedTokens();
  const maximumTokens = hint.contextWindow ?? estimated - 1;
  return promptTooLongError(Math.max(estimated, maximumTokens + 1), maximumTokens);
}

// Errors no retry can fix, though their status alone would invite one.
const finalCodes = new Set(["insufficient_quota", "billing_not_active", "account_deactivated"]);

/** The lynkr settings behind an upstream call, so that its errors name the variable to fix. */
export interface UpstreamSettings {
  /** Provider name, e.g. "openai". */
  provider: string;
  /** The variable holding the address, and its value as configured. */
  addressVariable: string;
  address: string;
  /** What the address must be, said after "set it to". */
  addressForm: string;
  /** The variable holding lynkr's key for this upstream, if it takes one. */
  keyVariable: string | undefined;
  /** Whose key went: lynkr's (keyVariable), the client's own (credential pass-through), or none. */
  keySource: "lynkr" | "client" | "none";
}

export interface UpstreamErrorContext {
  hint?: PromptSizeHint;
  settings?: UpstreamSettings;
  /** The URL that was posted to. */
  url?: string;
  /** The model asked for: a 404 that names it is about the model, not the path. */
  model?: string;
}

/**
 * Whether a 404 says the path does not exist (an HTML page, "Not Found", a framework's 404)
 * rather than that the model does not: a model-not-found body names the model (or, on Azure,
 * the deployment, which is the model there).
 */
export function isPathNotFound(parsed: ParsedUpstreamError, model: string | undefined): boolean {
  const said = `${parsed.code ?? ""} ${parsed.type ?? ""} ${parsed.message}`.toLowerCase();
  if (said.includes("model") || said.includes("deployment")) return false;
  return model === undefined || !said.includes(model.toLowerCase());
}

/** Which key an upstream rejected, in lynkr's words, so that the client does not blame its own. */
function rejectedKey(settings: UpstreamSettings): string {
  switch (settings.keySource) {
    case "lynkr":
      return `upstream ${settings.provider} rejected the key in ${settings.keyVariable}`;
    case "client":
      return `upstream ${settings.provider} rejected the client's own key, which lynkr passed on because ${settings.keyVariable} is not set`;
    case "none":
      return settings.keyVariable ? `upstream ${settings.provider} wants a key: set ${settings.keyVariable}` : `upstream ${settings.provider} wants a key lynkr has no setting for`;
  }
}

export async function upstreamError(response: Response, upstream: string, context: UpstreamErrorContext = {}): Promise<AnthropicError> {
  const text = await response.text().catch(() => "");
  return parsedUpstreamError(response, parseErrorBody(text), upstream, context);
}

/** upstreamError for a body the caller has already read and parsed. */
export function parsedUpstreamError(
  response: Response,
  parsed: ParsedUpstreamError,
  upstream: string,
  { hint, settings, url, model }: UpstreamErrorContext = {},
): AnthropicError {
  const headers = retryHeaders(response.headers);
  if (response.status === 400 || response.status === 413 || response.status === 422) {
    const tooLong = contextLengthError(parsed, hint);
    if (tooLong) return tooLong;
  }
  if (settings && response.status === 404 && isPathNotFound(parsed, model)) {
    // Not the model's fault, and no retry or other model can fix an address without its path.
    const posted = url ?? response.url;
    return new AnthropicError(
      "api_error",
      `${settings.addressVariable}=${settings.address} answered 404 for POST ${posted}: set it to ${settings.addressForm}`,
      { status: 502, headers: { ...headers, "x-should-retry": "false" } },
    );
  }
  if (parsed.code !== undefined && finalCodes.has(parsed.code)) headers["x-should-retry"] = "false";
  const anthropicType = isAnthropicErrorType(parsed.type) ? parsed.type : undefined;
  // OpenAI ("engine is currently overloaded"), Ollama ("server busy") and their kin say 503 where
  // Anthropic says 529 overloaded_error: the client speaks Anthropic, so it hears Anthropic's status.
  const status = !anthropicType && response.status === 503 ? 529 : response.status;
  const type = anthropicType ?? errorTypeForStatus(status);
  let message = parsed.message || `upstream ${upstream} answered HTTP ${response.status}`;
  if (settings && response.status === 401) message = `${message} (${rejectedKey(settings)})`;
  return new AnthropicError(type, message, { status, headers });
}
