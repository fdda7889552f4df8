// Anthropic's error types and their HTTP statuses. Every failure the gateway reports is one of
// these classes; `server/error-response.ts` turns them into responses in one place.

export const errorStatus = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
} as const;

export type AnthropicErrorType = keyof typeof errorStatus;

export function isAnthropicErrorType(value: unknown): value is AnthropicErrorType {
  return typeof value === "string" && Object.hasOwn(errorStatus, value);
}

export interface ErrorOptions {
  /** HTTP status when it differs from the type's usual one (e.g. an upstream's 503). */
  status?: number;
  /** Headers that must reach the client (retry-after, x-should-retry, ratelimit headers). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AnthropicError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly type: AnthropicErrorType,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AnthropicError";
    this.status = options.status ?? errorStatus[type];
    this.headers = options.headers ?? {};
  }

  /**
   * Claude Code retries anything without `x-should-retry: false`, even a 401 (ten times, for
   * minutes). Statuses no retry can fix say so explicitly.
   */
  get shouldRetry(): boolean {
    const explicit = this.headers["x-should-retry"];
    if (explicit !== undefined) return explicit === "true";
    return this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500;
  }

  toBody(requestId?: string) {
    return {
      type: "error" as const,
      error: { type: this.type, message: this.message },
      ...(requestId ? { request_id: requestId } : {}),
    };
  }
}

/** An upstream's stream `error` event as the error it reports; a type lynkr does not know is an api_error. */
export function streamErrorOf(event: { error: { type: string; message: string } }): AnthropicError {
  const { type, message } = event.error;
  return new AnthropicError(isAnthropicErrorType(type) ? type : "api_error", message);
}

export class InvalidRequestError extends AnthropicError {
  constructor(message: string, options?: ErrorOptions) {
    super("invalid_request_error", message, options);
  }
}
export class AuthenticationError extends AnthropicError {
  constructor(message: string, options?: ErrorOptions) {
    super("authentication_error", message, options);
  }
}
export class PermissionError extends AnthropicError {
  constructor(message: string) {
    super("permission_error", message);
  }
}
/** Anthropic has no type of its own for it: an invalid request, with HTTP's status. */
export class UnsupportedMediaTypeError extends AnthropicError {
  constructor(message: string) {
    super("invalid_request_error", message, { status: 415 });
  }
}
export class NotFoundError extends AnthropicError {
  constructor(message: string, options?: ErrorOptions) {
    super("not_found_error", message, options);
  }
}
export class RequestTooLargeError extends AnthropicError {
  constructor(message: string, options?: ErrorOptions) {
    super("request_too_large", message, options);
  }
}
export class RateLimitError extends AnthropicError {
  constructor(message: string, options?: ErrorOptions) {
    super("rate_limit_error", message, options);
  }
}
export class ApiError extends AnthropicError {
  constructor(message: string, options?: ErrorOptions) {
    super("api_error", message, options);
  }
}
export class OverloadedError extends AnthropicError {
  constructor(message: string, options?: ErrorOptions) {
    super("overloaded_error", message, options);
  }
}

/** The Anthropic type for an HTTP status, for upstreams that do not name one. */
export function errorTypeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 408:
    case 504:
      return "timeout_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
}

/** The prompt-too-long wording Claude Code parses to decide to compact. */
export function promptTooLongError(tokens: number, maximum: number): InvalidRequestError {
  return new InvalidRequestError(`prompt is too long: ${tokens} tokens > ${maximum} maximum`);
}
