/**
 * The boundary checks of `POST /v1/responses`: the body must be a JSON object naming a model;
 * every field the door reads is checked for its type and range (400 naming the field), fields it
 * cannot honour are refused (`background`, `conversation`, `prompt`) or noted as not forwarded,
 * and the result is a `ResponsesRequest` the pure translation (lib/doors/responses/to_upstream.ts)
 * can trust. Input items and tools are checked by their own modules.
 */
import { ProxyError } from "../../base/errors.ts";
import { isJsonObject, parseJsonBody } from "../../base/json.ts";
import { parseInput } from "./items.ts";
import { parseToolChoice, parseTools, printable } from "./tools.ts";
import type { ResponsesRequest } from "./types.ts";

/** `reasoning.effort` values, as Ollama accepts them. */
const EFFORTS = new Set(["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"]);

/** Fields the door knows; anything else is noted as not forwarded. */
const KNOWN = new Set([
  "model",
  "input",
  "instructions",
  "stream",
  "stream_options",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "max_tool_calls",
  "temperature",
  "top_p",
  "top_logprobs",
  "reasoning",
  "text",
  "previous_response_id",
  "store",
  "include",
  "metadata",
  "prompt_cache_key",
  "prompt_cache_retention",
  "client_metadata",
  "safety_identifier",
  "user",
  "service_tier",
  "truncation",
  "background",
  "conversation",
  "prompt",
]);

/** Fields the response object repeats as the client sent them. */
const ECHOED = [
  "tools",
  "tool_choice",
  "metadata",
  "text",
  "truncation",
  "prompt_cache_key",
  "safety_identifier",
  "user",
];

/** Unknown fields named one by one in the notes; the rest are counted. */
const MAX_NAMED = 10;

function bad(message: string): ProxyError {
  return new ProxyError(400, message);
}

/** The request body as a JSON object (400 otherwise). */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const body = parseJsonBody(await request.text());
  if (!isJsonObject(body)) throw bad("request body must be a JSON object");
  return body;
}

function optionalNumber(
  body: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < min || value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const what = integer ? "an integer" : "a number";
    throw bad(`${key}: must be ${what} from ${min} to ${max}`);
  }
  return value;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw bad(`${key}: must be a string`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw bad(`${key}: must be true or false`);
  return value;
}

function optionalObject(
  body: Record<string, unknown>,
  key: string,
): Record<string, unknown> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) throw bad(`${key}: must be an object`);
  return value;
}

function parseReasoning(body: Record<string, unknown>): { effort?: string; summary?: string } {
  const reasoning = optionalObject(body, "reasoning");
  if (!reasoning) return {};
  const out: { effort?: string; summary?: string } = {};
  const effort = reasoning.effort;
  if (effort !== undefined && effort !== null) {
    if (typeof effort !== "string" || !EFFORTS.has(effort)) {
      throw bad(
        `reasoning.effort: invalid reasoning value: ${
          JSON.stringify(effort)
        } (must be "none", "minimal", "low", "medium", "high", "xhigh" or "max")`,
      );
    }
    out.effort = effort;
  }
  const summary = reasoning.summary ?? reasoning.generate_summary;
  if (typeof summary === "string") out.summary = summary;
  return out;
}

function parseFormat(
  body: Record<string, unknown>,
  notes: Set<string>,
): ResponsesRequest["format"] {
  const text = optionalObject(body, "text");
  if (!text) return undefined;
  if (text.verbosity !== undefined && text.verbosity !== null) {
    notes.add("text.verbosity (chat models have no verbosity setting)");
  }
  const format = text.format;
  if (format === undefined || format === null) return undefined;
  if (!isJsonObject(format)) throw bad("text.format: must be an object");
  if (format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  if (format.type !== "json_schema") {
    throw bad(`text.format.type: must be "text", "json_object" or "json_schema"`);
  }
  if (!isJsonObject(format.schema)) throw bad("text.format.schema: required, a JSON schema object");
  return {
    type: "json_schema",
    name: typeof format.name === "string" && format.name !== "" ? format.name : "response",
    schema: format.schema,
    ...(typeof format.strict === "boolean" ? { strict: format.strict } : {}),
    ...(typeof format.description === "string" ? { description: format.description } : {}),
  };
}

function refuseUnsupported(body: Record<string, unknown>): void {
  if (body.background === true) {
    throw bad("background: background responses are not supported; stream the response instead");
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    throw bad("conversation: conversations are not supported; use previous_response_id");
  }
  if (body.prompt !== undefined && body.prompt !== null) {
    throw bad("prompt: stored prompt templates are not supported; send instructions and input");
  }
}

/** Checks a `POST /v1/responses` body. */
export function parseResponsesRequest(body: Record<string, unknown>): ResponsesRequest {
  const model = body.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw bad("model: you must provide a model parameter");
  }
  refuseUnsupported(body);
  const notes = new Set<string>();
  const previousResponseId = optionalString(body, "previous_response_id");
  const input = body.input === undefined || body.input === null
    ? (previousResponseId !== undefined ? [] : parseInput(body.input, notes))
    : parseInput(body.input, notes);
  const instructions = optionalString(body, "instructions");
  const tools = parseTools(body.tools, notes);
  const toolChoice = parseToolChoice(body.tool_choice, notes);
  const { effort, summary } = parseReasoning(body);
  const format = parseFormat(body, notes);
  if (optionalNumber(body, "max_tool_calls", 1, Number.MAX_SAFE_INTEGER, true) !== undefined) {
    notes.add("max_tool_calls (the model is not limited in tool calls)");
  }
  optionalObject(body, "metadata");
  const unknown = Object.keys(body).filter((key) => !KNOWN.has(key));
  for (const key of unknown.slice(0, MAX_NAMED)) {
    notes.add(`${printable(key)} (not a Responses field this proxy knows)`);
  }
  if (unknown.length > MAX_NAMED) {
    notes.add(`${unknown.length - MAX_NAMED} more unknown fields`);
  }
  const echo: Record<string, unknown> = {};
  for (const key of ECHOED) {
    if (body[key] !== undefined && body[key] !== null) echo[key] = body[key];
  }
  return {
    model: model.trim(),
    stream: optionalBoolean(body, "stream") ?? false,
    instructions,
    input,
    tools,
    toolChoice,
    parallelToolCalls: optionalBoolean(body, "parallel_tool_calls"),
    maxOutputTokens: optionalNumber(body, "max_output_tokens", 1, Number.MAX_SAFE_INTEGER, true),
    temperature: optionalNumber(body, "temperature", 0, 2),
    topP: optionalNumber(body, "top_p", 0, 1),
    topLogprobs: optionalNumber(body, "top_logprobs", 0, 20, true),
    effort,
    summary,
    format,
    previousResponseId,
    store: optionalBoolean(body, "store") ?? true,
    echo,
    ignored: [...notes],
  };
}
