/**
 * Checks `input` items into their normal form (lib/doors/responses/types.ts): messages with or
 * without `type` (the SDKs' shorthand), content parts, function and custom tool calls and their
 * outputs, and replayed reasoning. Every rejection is a 400 naming the item and field, in the
 * words Ollama uses where it has words for it. Reasoning text travels in `encrypted_content`
 * under the door's own prefix, so only what this door wrote is read back as thinking.
 */
import { ProxyError } from "../../base/errors.ts";
import type { ContentPart, InputItem } from "./types.ts";
import { isJsonObject } from "../../base/json.ts";

const ROLES = new Set(["user", "assistant", "system", "developer"]);
const REASONING_PREFIX = "ocp-reasoning-v1:";
/** Ollama accepts these data URLs and no others (B.3). */
const DATA_IMAGE = /^data:(image\/(jpeg|jpg|png|webp))?;base64,/;

/** The `encrypted_content` the door writes for a reasoning item's text. */
export function sealReasoning(text: string): string {
  return REASONING_PREFIX + text;
}

/** The text of an `encrypted_content` this door wrote, or undefined for anyone else's. */
export function openReasoning(sealed: unknown): string | undefined {
  return typeof sealed === "string" && sealed.startsWith(REASONING_PREFIX)
    ? sealed.slice(REASONING_PREFIX.length)
    : undefined;
}

function bad(message: string): ProxyError {
  return new ProxyError(400, message);
}

function requiredString(item: Record<string, unknown>, key: string, at: string): string {
  const value = item[key];
  if (typeof value !== "string" || value.trim() === "") {
    throw bad(`${at}.${key}: required, a non-empty string`);
  }
  return value;
}

function optionalNamespace(item: Record<string, unknown>, at: string): { namespace?: string } {
  const ns = item.namespace;
  if (ns === undefined || ns === null || ns === "") return {};
  if (typeof ns !== "string") throw bad(`${at}.namespace: must be a string`);
  return { namespace: ns };
}

function imagePart(part: Record<string, unknown>, at: string): ContentPart {
  const url = part.image_url;
  if (typeof url !== "string" || url === "") {
    if (part.file_id !== undefined) {
      throw bad(`${at}: file_id images are not supported; send the image as a base64 data URL`);
    }
    throw bad(`${at}.image_url: required, a base64 data URL`);
  }
  if (/^https?:/i.test(url)) {
    throw bad(
      `${at}.image_url: image URLs are not currently supported, please use base64 encoded data instead`,
    );
  }
  if (!DATA_IMAGE.test(url)) throw bad(`${at}.image_url: invalid image input`);
  return { type: "input_image", image_url: url };
}

/** Checks a list of content parts. */
function contentParts(value: unknown[], at: string): ContentPart[] {
  return value.map((raw, j) => {
    const here = `${at}[${j}]`;
    if (!isJsonObject(raw)) throw bad(`${here}: a content part must be an object`);
    switch (raw.type) {
      case "input_text":
      case "output_text":
        if (typeof raw.text !== "string") throw bad(`${here}.text: required, a string`);
        return { type: raw.type, text: raw.text };
      case "refusal":
        if (typeof raw.refusal !== "string") throw bad(`${here}.refusal: required, a string`);
        return { type: "output_text", text: raw.refusal };
      case "input_image":
        return imagePart(raw, here);
      case "input_file":
        throw bad(`${here}: file inputs are not currently supported`);
      default:
        throw bad(`${here}: unknown content type: ${JSON.stringify(raw.type)}`);
    }
  });
}

function content(value: unknown, at: string): string | ContentPart[] {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return contentParts(value, at);
  throw bad(`${at}: must be a string or an array of content parts`);
}

function reasoningText(item: Record<string, unknown>): string {
  const ours = openReasoning(item.encrypted_content);
  if (ours !== undefined) return ours;
  const texts = (list: unknown) =>
    Array.isArray(list)
      ? list.filter(isJsonObject).map((p) => p.text).filter((t): t is string =>
        typeof t === "string"
      )
      : [];
  const full = texts(item.content);
  return (full.length > 0 ? full : texts(item.summary)).join("\n");
}

function argumentsText(item: Record<string, unknown>, at: string): string {
  const args = item.arguments;
  if (typeof args !== "string") throw bad(`${at}.arguments: required, a JSON string`);
  try {
    JSON.parse(args);
  } catch (err) {
    throw bad(
      `${at}.arguments: failed to parse function call arguments: ${(err as Error).message}`,
    );
  }
  return args;
}

function oneItem(raw: unknown, at: string, notes: Set<string>): InputItem | undefined {
  if (!isJsonObject(raw)) throw bad(`${at}: an input item must be an object`);
  const type = raw.type ?? (raw.role !== undefined ? "message" : undefined);
  switch (type) {
    case undefined:
      throw bad(`${at}: input item missing required 'type' field`);
    case "message": {
      if (typeof raw.role !== "string" || !ROLES.has(raw.role)) {
        throw bad(`${at}.role: must be one of "user", "assistant", "system", "developer"`);
      }
      const role = raw.role as "user" | "assistant" | "system" | "developer";
      return { type: "message", role, content: content(raw.content, `${at}.content`) };
    }
    case "function_call":
      return {
        type: "function_call",
        call_id: requiredString(raw, "call_id", at),
        name: requiredString(raw, "name", at),
        ...optionalNamespace(raw, at),
        arguments: argumentsText(raw, at),
      };
    case "custom_tool_call":
      if (typeof raw.input !== "string") throw bad(`${at}.input: required, a string`);
      return {
        type: "custom_tool_call",
        call_id: requiredString(raw, "call_id", at),
        name: requiredString(raw, "name", at),
        ...optionalNamespace(raw, at),
        input: raw.input,
      };
    case "function_call_output":
    case "custom_tool_call_output":
      return {
        type: type as "function_call_output" | "custom_tool_call_output",
        call_id: requiredString(raw, "call_id", at),
        output: content(raw.output, `${at}.output`),
      };
    case "reasoning":
      return { type: "reasoning", text: reasoningText(raw) };
    case "web_search_call":
      notes.add("web_search_call items (Chutes has no web search; replayed searches are skipped)");
      return undefined;
    case "item_reference":
      throw bad(`${at}: item_reference is not supported; send the item itself`);
    default:
      throw bad(`${at}: unknown input item type: ${JSON.stringify(type)}`);
  }
}

/** Checks `input`: a string is one user message, an array is items; anything else is a 400. */
export function parseInput(input: unknown, notes: Set<string>): InputItem[] {
  if (typeof input === "string") return [{ type: "message", role: "user", content: input }];
  if (!Array.isArray(input)) throw bad("input: must be a string or an array of input items");
  const items: InputItem[] = [];
  input.forEach((raw, i) => {
    const item = oneItem(raw, `input[${i}]`, notes);
    if (item) items.push(item);
  });
  return items;
}
