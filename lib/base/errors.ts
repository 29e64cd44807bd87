/**
 * The one error type of the proxy and the one place errors become responses. A `ProxyError`
 * carries the HTTP status the client should see; before the first byte it becomes that status
 * with `{"error": "..."}`, after it the stream stages turn it into a final `{"error": ...}` line.
 * Upstream error bodies come in three dialects (Chutes/FastAPI `{"detail": ...}`, OpenAI
 * `{"error": {"message": ...}}`, plain text); `upstreamErrorMessage` reads all of them.
 */

/** An error with the status the client should receive. */
export class ProxyError extends Error {
  /** How long the upstream asked us to wait (`Retry-After`), when it said. */
  retryAfterMs: number | undefined;

  constructor(
    readonly status: number,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = "ProxyError";
  }
}

const JSON_UTF8 = "application/json; charset=utf-8";

/** A JSON response with Ollama's content type. */
export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", JSON_UTF8);
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** Ollama's error shape: `{"error": "<message>"}` with the given status. */
export function errorResponse(status: number, message: string): Response {
  return jsonResponse({ error: message }, status);
}

/** Turns anything thrown into a `ProxyError`; unknown errors become 500 with their message. */
export function toProxyError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProxyError(500, message);
}

/** Reads a message out of a JSON or text error body in any of the dialects upstreams use. */
export function upstreamErrorMessage(bodyText: string): string {
  const text = bodyText.trim();
  if (text === "") return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text.length > 500 ? `${text.slice(0, 500)}…` : text;
  }
  return messageFromValue(parsed) ?? text;
}

function messageFromValue(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    // FastAPI validation errors: [{"loc": [...], "msg": "..."}]
    const parts = value.map((v) => messageFromValue(v)).filter((m): m is string => !!m);
    return parts.length > 0 ? parts.join("; ") : undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const obj = value as Record<string, unknown>;
  for (const key of ["detail", "error", "message", "msg"]) {
    if (key in obj) {
      const inner = messageFromValue(obj[key]);
      if (inner) return withQuotaReset(inner, obj);
    }
  }
  return undefined;
}

/** Chutes' 402 quota body carries `quota_reset_timestamp`; say when the quota resets. */
function withQuotaReset(message: string, obj: Record<string, unknown>): string {
  const detail = obj["detail"];
  const holder = detail !== null && typeof detail === "object"
    ? detail as Record<string, unknown>
    : obj;
  const reset = holder["quota_reset_timestamp"];
  return typeof reset === "string" && !message.includes(reset)
    ? `${message} (quota resets at ${reset})`
    : message;
}

/** Builds the error for an upstream non-2xx answer, keeping its status and its message. */
export function upstreamHttpError(status: number, bodyText: string): ProxyError {
  const message = upstreamErrorMessage(bodyText) || `upstream answered HTTP ${status}`;
  const clientStatus = status >= 400 && status <= 599 ? status : 502;
  return new ProxyError(clientStatus, message, isTransientStatus(status));
}

/**
 * Upstream answers worth another attempt: 429 (capacity, rate) and 503 (no instance yet). A 502
 * or 504 *answered* by Chutes' gateway may mean the request reached a miner that still runs
 * (and bills) it, so it is not sent again; the proxy's own 502 (never connected) and 504 are.
 */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 503;
}
