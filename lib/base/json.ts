/**
 * Request bodies as JSON, with a depth limit: JSON nested deeper than `MAX_JSON_DEPTH` levels is
 * refused with 400 before it is parsed (serde_json's default limit; Go's decoder stops at
 * 10,000, and Ollama answers 400 for far less). No real request comes close — a tool's JSON
 * schema inside a chat body is a few dozen levels at most — while a body of nothing but brackets
 * would otherwise be parsed, held and forwarded, and every recursive walk over it would risk the
 * stack. The depth scan is one linear pass that skips strings with `indexOf`.
 */
import { ProxyError } from "./errors.ts";

/** True for a JSON object (not null, not an array): the shape every wire field is checked for. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 128;

/** True when `text` nests arrays/objects deeper than `max` (strings are skipped). */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: find the next quote not escaped by an odd run of backslashes.
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false; // unterminated: JSON.parse reports it
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** Parses a request body as JSON; too deep or invalid → a 400 `ProxyError`. */
export function parseJsonBody(text: string): unknown {
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ProxyError(
      400,
      `invalid JSON in request body: nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProxyError(400, `invalid JSON in request body: ${(err as Error).message}`);
  }
}
