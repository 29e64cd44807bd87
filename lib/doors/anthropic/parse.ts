/**
 * Boundary checks for `POST /v1/messages` and `/v1/messages/count_tokens`: an untrusted JSON body
 * becomes a `MessagesRequest`, or a 400 whose message names the field. What real clients send is
 * accepted (content as a string or blocks, `role: "system"` inside `messages[]` as Claude Code
 * ≥ 2.1.154 sends it, `cache_control` and unknown keys anywhere, server tools, `thinking.type`
 * `adaptive`); what cannot be meant is refused (a `tool_use` without id, a schema that is not an
 * object, an image that is not base64 or a URL). Ollama's wording is kept where its tests fix it.
 */
import { ProxyError } from "../../base/errors.ts";
import { isJsonObject, parseJsonBody } from "../../base/json.ts";
import type {
  ContentBlock,
  ImageSource,
  MessageParam,
  MessagesRequest,
  TextOrImage,
  ThinkingType,
  ToolChoice,
} from "./types.ts";

type Body = Record<string, unknown>;

const describe = (v: unknown) => v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
const absent = (v: unknown) => v === undefined || v === null;

/** The 400 for a field of the wrong type. */
export function invalidField(path: string, expected: string, value: unknown): ProxyError {
  return new ProxyError(400, `invalid "${path}": expected ${expected}, got ${describe(value)}`);
}

/** Reads a request body as a JSON object. */
export async function readJsonObject(request: Request): Promise<Body> {
  const text = await request.text();
  if (text.trim() === "") throw new ProxyError(400, "missing request body");
  const value = parseJsonBody(text);
  if (!isJsonObject(value)) throw invalidField("body", "a JSON object", value);
  return value;
}

function string(v: unknown, path: string): string {
  if (typeof v !== "string") throw invalidField(path, "a string", v);
  return v;
}

function number(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalidField(path, "a number", v);
  return v;
}

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function imageSource(v: unknown, path: string): ImageSource {
  if (!isJsonObject(v)) throw new ProxyError(400, `invalid "${path}": invalid image source`);
  if (v.type === "url") return { type: "url", url: string(v.url, `${path}.url`) };
  if (v.type !== "base64") {
    throw new ProxyError(
      400,
      `invalid "${path}.type": invalid image source type: ${String(v.type)}. ` +
        "Only base64 and url images are supported.",
    );
  }
  const media = string(v.media_type, `${path}.media_type`);
  if (!media.startsWith("image/")) throw invalidField(`${path}.media_type`, "image/…", media);
  const data = string(v.data, `${path}.data`);
  if (!BASE64.test(data)) {
    throw new ProxyError(400, `invalid "${path}.data": invalid base64 image data`);
  }
  return { type: "base64", media_type: media, data };
}

function textOrImage(v: unknown, path: string): TextOrImage | undefined {
  if (!isJsonObject(v)) throw invalidField(path, "a content block object", v);
  if (v.type === "text") return { type: "text", text: string(v.text, `${path}.text`) };
  if (v.type === "image") return { type: "image", source: imageSource(v.source, `${path}.source`) };
  return undefined;
}

function toolResultContent(v: unknown, path: string): TextOrImage[] {
  if (absent(v)) return [];
  if (typeof v === "string") return [{ type: "text", text: v }];
  if (!Array.isArray(v)) throw invalidField(path, "a string or an array of blocks", v);
  // Other block kinds (documents, search results) cannot reach the upstream: left out.
  return v.map((b, i) => textOrImage(b, `${path}[${i}]`)).filter((b) => b !== undefined);
}

function contentBlock(v: unknown, path: string): ContentBlock {
  const simple = textOrImage(v, path);
  if (simple) return simple;
  const b = v as Body;
  switch (b.type) {
    case "tool_use": {
      for (const key of ["id", "name"]) {
        if (typeof b[key] !== "string" || b[key] === "") {
          throw new ProxyError(
            400,
            `invalid "${path}": tool_use block missing required '${key}' field`,
          );
        }
      }
      const input = absent(b.input) ? {} : b.input;
      if (!isJsonObject(input)) throw invalidField(`${path}.input`, "an object", input);
      return { type: "tool_use", id: b.id as string, name: b.name as string, input };
    }
    case "tool_result": {
      const id = b.tool_use_id;
      if (typeof id !== "string" || id === "") {
        throw new ProxyError(
          400,
          `invalid "${path}": tool_result block missing required 'tool_use_id' field`,
        );
      }
      if (!absent(b.is_error) && typeof b.is_error !== "boolean") {
        throw invalidField(`${path}.is_error`, "true or false", b.is_error);
      }
      const content = toolResultContent(b.content, `${path}.content`);
      return { type: "tool_result", tool_use_id: id, content, is_error: b.is_error === true };
    }
    case "thinking":
      return { type: "thinking", thinking: string(b.thinking ?? "", `${path}.thinking`) };
    default:
      if (typeof b.type !== "string") throw invalidField(`${path}.type`, "a string", b.type);
      return { type: "dropped", kind: b.type };
  }
}

const ROLES = new Set(["user", "assistant", "system"]);

function message(v: unknown, i: number): MessageParam {
  const path = `messages[${i}]`;
  if (!isJsonObject(v)) throw invalidField(path, "an object", v);
  const role = typeof v.role === "string" ? v.role.toLowerCase() : v.role;
  if (typeof role !== "string" || !ROLES.has(role)) {
    throw invalidField(`${path}.role`, `"user", "assistant" or "system"`, v.role);
  }
  let content: ContentBlock[];
  if (typeof v.content === "string") content = [{ type: "text", text: v.content }];
  else if (Array.isArray(v.content)) {
    content = v.content.map((b, k) => contentBlock(b, `${path}.content[${k}]`));
  } else throw invalidField(`${path}.content`, "a string or an array of blocks", v.content);
  return { role: role as MessageParam["role"], content };
}

function system(v: unknown): string[] {
  if (absent(v)) return [];
  if (typeof v === "string") return v === "" ? [] : [v];
  if (!Array.isArray(v)) throw invalidField("system", "a string or an array of text blocks", v);
  return v.map((b, i) => {
    if (!isJsonObject(b) || b.type !== "text") {
      throw invalidField(`system[${i}]`, "a text block", b);
    }
    return string(b.text, `system[${i}].text`);
  });
}

function tools(v: unknown, req: MessagesRequest): void {
  if (absent(v)) return;
  if (!Array.isArray(v)) throw invalidField("tools", "an array", v);
  v.forEach((t, i) => {
    if (!isJsonObject(t)) throw invalidField(`tools[${i}]`, "an object", t);
    if (typeof t.type === "string" && t.type !== "custom") {
      req.server_tools.push({ index: i, type: t.type });
      return;
    }
    const name = t.name;
    if (typeof name !== "string" || name === "") {
      throw invalidField(`tools[${i}].name`, "a non-empty string", name);
    }
    const schema = absent(t.input_schema) ? { type: "object", properties: {} } : t.input_schema;
    if (!isJsonObject(schema)) {
      throw new ProxyError(
        400,
        `invalid input_schema for tool "${name}": expected a JSON Schema object, got ${
          describe(schema)
        }`,
      );
    }
    const tool: MessagesRequest["tools"][number] = { name, input_schema: schema };
    if (!absent(t.description)) tool.description = string(t.description, `tools[${i}].description`);
    req.tools.push(tool);
  });
}

function toolChoice(v: unknown): ToolChoice | undefined {
  if (absent(v)) return undefined;
  if (!isJsonObject(v)) throw invalidField("tool_choice", "an object", v);
  const type = v.type;
  if (type !== "auto" && type !== "any" && type !== "tool" && type !== "none") {
    throw invalidField("tool_choice.type", `"auto", "any", "tool" or "none"`, type);
  }
  const choice: ToolChoice = { type };
  if (type === "tool") choice.name = string(v.name, "tool_choice.name");
  if (!absent(v.disable_parallel_tool_use)) {
    if (typeof v.disable_parallel_tool_use !== "boolean") {
      throw invalidField(
        "tool_choice.disable_parallel_tool_use",
        "true or false",
        v.disable_parallel_tool_use,
      );
    }
    choice.disable_parallel_tool_use = v.disable_parallel_tool_use;
  }
  return choice;
}

function thinking(v: unknown): ThinkingType | undefined {
  if (absent(v)) return undefined;
  if (!isJsonObject(v)) throw invalidField("thinking", "an object", v);
  const type = v.type;
  if (type !== "enabled" && type !== "disabled" && type !== "adaptive") {
    throw invalidField("thinking.type", `"enabled", "disabled" or "adaptive"`, type);
  }
  return type;
}

function outputConfig(body: Body, req: MessagesRequest): void {
  const config = body.output_config;
  if (!absent(config) && !isJsonObject(config)) {
    throw invalidField("output_config", "an object", config);
  }
  if (isJsonObject(config) && typeof config.effort === "string") {
    req.effort = config.effort.trim().toLowerCase();
  }
  const format = isJsonObject(config) && !absent(config.format)
    ? config.format
    : body.output_format;
  if (absent(format)) return;
  if (!isJsonObject(format) || format.type !== "json_schema" || !isJsonObject(format.schema)) {
    throw invalidField("output_config.format", `{"type": "json_schema", "schema": {…}}`, format);
  }
  req.json_schema = format.schema;
}

function sampling(body: Body, req: MessagesRequest): void {
  for (const key of ["temperature", "top_p"] as const) {
    if (!absent(body[key])) req[key] = number(body[key], key);
  }
  if (!absent(body.top_k)) {
    const k = number(body.top_k, "top_k");
    if (!Number.isInteger(k) || k < 0) throw invalidField("top_k", "an integer ≥ 0", k);
    req.top_k = k;
  }
  const stop = body.stop_sequences;
  if (!absent(stop)) {
    if (!Array.isArray(stop)) throw invalidField("stop_sequences", "an array of strings", stop);
    const list = stop.map((s, i) => string(s, `stop_sequences[${i}]`));
    if (list.length > 0) req.stop_sequences = list;
  }
}

/**
 * Parses a Messages body. `countOnly` is for `count_tokens`, where `max_tokens` and `stream`
 * are not part of the request.
 */
export function parseMessagesRequest(body: Body, countOnly = false): MessagesRequest {
  const model = typeof body.model === "string" ? body.model.trim() : "";
  if (model === "") throw new ProxyError(400, "model is required");
  const max = body.max_tokens;
  if (!countOnly && (typeof max !== "number" || !Number.isInteger(max) || max <= 0)) {
    throw new ProxyError(400, "max_tokens is required and must be positive");
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    if (!absent(body.messages) && !Array.isArray(body.messages)) {
      throw invalidField("messages", "an array", body.messages);
    }
    throw new ProxyError(400, "messages is required");
  }
  if (!absent(body.stream) && typeof body.stream !== "boolean") {
    throw invalidField("stream", "true or false", body.stream);
  }
  const req: MessagesRequest = {
    model,
    max_tokens: countOnly ? 0 : max as number,
    stream: !countOnly && body.stream === true,
    system: system(body.system),
    messages: body.messages.map(message),
    tools: [],
    server_tools: [],
  };
  tools(body.tools, req);
  const choice = toolChoice(body.tool_choice);
  if (choice) req.tool_choice = choice;
  const think = thinking(body.thinking);
  if (think) req.thinking = think;
  outputConfig(body, req);
  sampling(body, req);
  return req;
}
