/**
 * The `/v1` door's boundary checks shared by its routes: the body must be a JSON object (not
 * nested too deep: lib/base/json.ts), and the model must be named (OpenAI's own wording for both).
 */
import { ProxyError } from "../../base/errors.ts";
import { parseJsonBody } from "../../base/json.ts";

/** The request body as a JSON object (400 otherwise). */
export async function readBody(request: Request): Promise<Record<string, unknown>> {
  const body = parseJsonBody(await request.text());
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ProxyError(400, "request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** The requested model, trimmed (400 when missing). */
export function requireModel(body: Record<string, unknown>): string {
  const model = body.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw new ProxyError(400, "you must provide a model parameter");
  }
  return model.trim();
}
