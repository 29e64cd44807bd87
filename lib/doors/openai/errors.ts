/**
 * OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, with the type Ollama's
 * OpenAI layer assigns to each status; the `/v1` door answers every failure in it.
 */

/** OpenAI's error type for a status, as Ollama's OpenAI layer assigns it. */
export function openAIErrorType(status: number): string {
  if (status === 400) return "invalid_request_error";
  if (status === 404) return "not_found_error";
  return "api_error";
}

/** An error response in OpenAI's shape. */
export function openAIErrorResponse(
  status: number,
  message: string,
  headers: HeadersInit = {},
): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  const error = { message, type: openAIErrorType(status), param: null, code: null };
  return new Response(JSON.stringify({ error }), { status, headers: h });
}
