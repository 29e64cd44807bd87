/**
 * Anthropic's error shape, `{"type": "error", "error": {"type", "message"}}`, with the
 * `error.type` Anthropic's API gives each status: before the first byte it is the body of a
 * response with the real status, after it the data of an `event: error`. Claude Code reads the
 * type: `overloaded_error` (503, 529) is retried with backoff, `rate_limit_error` (429) too.
 */

const TYPES: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  503: "overloaded_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** Anthropic's `error.type` for an HTTP status (`api_error` when it has no own type). */
export function anthropicErrorType(status: number): string {
  return TYPES[status] ?? "api_error";
}

/** The error body for `type` and `message`. */
export function anthropicErrorBody(type: string, message: string): Record<string, unknown> {
  return { type: "error", error: { type, message } };
}

/** An error response in Anthropic's shape with the given status. */
export function anthropicErrorResponse(status: number, message: string): Response {
  return Response.json(anthropicErrorBody(anthropicErrorType(status), message), { status });
}

/** Capacity failures Chutes reports after the first byte ("No instances available", 503s). */
const CAPACITY = /\b(overloaded|capacity|no instances|too many requests|429|503|529)\b/i;

/**
 * The `error.type` of a failure after the first byte, when only its message is known:
 * `overloaded_error` for capacity failures, which clients retry, else `api_error`.
 */
export function streamErrorType(message: string): string {
  return CAPACITY.test(message) ? "overloaded_error" : "api_error";
}
