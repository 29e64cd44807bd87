/**
 * Ollama wire types (snake_case, exactly as on the wire) and the boundary parsers that turn an
 * untrusted JSON body into a checked request. Every rejection is a 400 `ProxyError` whose message
 * names the offending field, e.g. `invalid "messages[1].content": expected a string`.
 */
import { ProxyError } from "../../base/errors.ts";
import { parseJsonBody } from "../../base/json.ts";

/** A tool call as Ollama sends and receives it: arguments are an object. */
export interface OllamaToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

/** A checked chat message. `parts` holds an OpenAI-style content array when a client sent one. */
export interface OllamaMessage {
  role: string;
  content: string;
  parts?: unknown[];
  thinking?: string;
  images?: string[];
  tool_calls?: { id?: string; name: string; arguments: unknown }[];
  tool_name?: string;
  tool_call_id?: string;
}

/** `think` values Ollama accepts. */
export type Think = boolean | "low" | "medium" | "high" | "max";

/** Fields shared by chat and generate. */
export interface CommonRequest {
  model: string;
  stream: boolean;
  format?: "json" | Record<string, unknown>;
  options?: Record<string, unknown>;
  /** Seconds; negative means "forever". */
  keep_alive?: number;
  think?: Think;
  logprobs?: boolean;
  top_logprobs?: number;
}

/** A checked `/api/chat` request. */
export interface ChatRequest extends CommonRequest {
  messages: OllamaMessage[];
  tools?: unknown[];
}

/** A checked `/api/generate` request. */
export interface GenerateRequest extends CommonRequest {
  prompt: string;
  suffix?: string;
  system?: string;
  template?: string;
  context?: number[];
  raw: boolean;
  images?: string[];
}

type Body = Record<string, unknown>;

const describe = (v: unknown) => v === null ? "null" : Array.isArray(v) ? "array" : typeof v;

/** The 400 for a field of the wrong type. */
export function invalidField(path: string, expected: string, value: unknown): ProxyError {
  return new ProxyError(400, `invalid "${path}": expected ${expected}, got ${describe(value)}`);
}

/** Parses a request body as a JSON object (`missing request body` when empty, as Ollama says). */
export function parseJsonObject(text: string): Body {
  if (text.trim() === "") throw new ProxyError(400, "missing request body");
  const value = parseJsonBody(text);
  // A JSON `null` decodes like `{}` in Ollama (Go), so the route's own "model" error follows.
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ProxyError(400, `request body must be a JSON object, got ${describe(value)}`);
  }
  return value as Body;
}

/** Reads an optional string field (`null` counts as absent). */
export function optionalString(body: Body, key: string, path = key): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidField(path, "a string", v);
  return v;
}

function optionalBool(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalidField(key, "true or false", v);
  return v;
}

const GO_DURATION = /^[-+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;
const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  "µs": 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
}; // deno-fmt-ignore

/** Parses `keep_alive`: seconds as a number, or a Go duration string such as `"5m"` or `"1h30m"`. */
export function parseKeepAlive(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value !== "string") throw invalidField("keep_alive", "a number or a duration", value);
  const sign = value.startsWith("-") ? -1 : 1;
  let rest = value.replace(/^[-+]/, "");
  if (rest === "0") return 0;
  let total = 0;
  // As Go's time.ParseDuration: "" and a lone sign are invalid, not zero (zero would unload).
  if (rest === "") throw new ProxyError(400, `invalid "keep_alive": time: invalid duration "${value}"`);
  while (rest.length > 0) {
    const m = GO_DURATION.exec(rest);
    if (!m) {
      throw new ProxyError(400, `invalid "keep_alive": time: invalid duration "${value}"`);
    }
    total += Number(m[1]) * UNIT_SECONDS[m[3]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

function parseThink(value: unknown): Think | undefined {
  if (value === undefined || value === null || typeof value === "boolean") {
    return value ?? undefined;
  }
  if (value === "low" || value === "medium" || value === "high" || value === "max") return value;
  throw new ProxyError(
    400,
    `invalid think value: ${
      JSON.stringify(value)
    } (must be "high", "medium", "low", "max", true, or false)`,
  );
}

function parseFormat(value: unknown): CommonRequest["format"] {
  if (value === undefined || value === null || value === "") return undefined;
  if (value === "json") return "json";
  if (typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new ProxyError(
    400,
    `invalid format: ${JSON.stringify(value)}; expected "json" or a valid JSON Schema object`,
  );
}

/** Parses the fields chat and generate share. `model` may be empty; callers decide the error. */
export function parseCommon(body: Body): CommonRequest {
  const options = body.options;
  if (
    options !== undefined && options !== null &&
    (typeof options !== "object" || Array.isArray(options))
  ) {
    throw invalidField("options", "an object", options);
  }
  const top = body.top_logprobs;
  if (top !== undefined && top !== null && (typeof top !== "number" || top < 0 || top > 20)) {
    throw new ProxyError(400, "top_logprobs must be between 0 and 20");
  }
  const req: CommonRequest = {
    model: (optionalString(body, "model") ?? "").trim(),
    stream: optionalBool(body, "stream") ?? true,
  };
  const format = parseFormat(body.format);
  if (format !== undefined) req.format = format;
  if (options) req.options = options as Record<string, unknown>;
  const keepAlive = parseKeepAlive(body.keep_alive);
  if (keepAlive !== undefined) req.keep_alive = keepAlive;
  const think = parseThink(body.think);
  if (think !== undefined) req.think = think;
  const logprobs = optionalBool(body, "logprobs");
  if (logprobs !== undefined) req.logprobs = logprobs;
  if (typeof top === "number") req.top_logprobs = Math.trunc(top);
  return req;
}

const BASE64 = /^[A-Za-z0-9+/_\-\s]*={0,2}\s*$/;

/** Checks an `images` array: raw base64 strings (a data URL is tolerated). */
export function parseImages(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidField(path, "an array of base64 strings", value);
  return value.map((img, i) => {
    if (typeof img !== "string") throw invalidField(`${path}[${i}]`, "a base64 string", img);
    const payload = img.startsWith("data:") ? img.slice(img.indexOf(",") + 1) : img;
    if (!BASE64.test(payload)) {
      throw new ProxyError(400, `invalid "${path}[${i}]": not valid base64 image data`);
    }
    return img;
  });
}
