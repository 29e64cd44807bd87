/**
 * OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, which the `openai`
 * SDKs, Codex and Copilot CLI parse; `type` follows the status the way Ollama's OpenAI layer
 * assigns it. (The `/v1` chat door has the same few lines; a door imports no other door.)
 */

/** An error response in OpenAI's shape; `param` and `code` name the field and the case. */
export function responsesErrorResponse(
  status: number,
  message: string,
  detail: { param?: string; code?: string } = {},
): Response {
  const type = status === 400
    ? "invalid_request_error"
    : status === 404
    ? "not_found_error"
    : "api_error";
  const error = { message, type, param: detail.param ?? null, code: detail.code ?? null };
  return Response.json({ error }, { status });
}
