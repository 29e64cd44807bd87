/**
 * Boundary parsers for `/api/chat` and `/api/generate` bodies. They accept what real clients
 * send (roles in any case, `content: null` beside tool calls, OpenAI content arrays, tool-call
 * arguments as objects or JSON strings, `tools: []`) and reject the rest with a 400 naming the
 * field. Semantic checks that need the model (capabilities) happen later, in the handlers.
 */
import { ProxyError } from "../../base/errors.ts";
import {
  type ChatRequest,
  type GenerateRequest,
  invalidField,
  type OllamaMessage,
  optionalString,
  parseCommon,
  parseImages,
} from "./types.ts";

type Body = Record<string, unknown>;

function parseToolCalls(value: unknown, path: string): OllamaMessage["tool_calls"] {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidField(path, "an array", value);
  return value.map((raw, i) => {
    const p = `${path}[${i}]`;
    if (raw === null || typeof raw !== "object") throw invalidField(p, "an object", raw);
    const call = raw as Body;
    const fn = call.function as Body | undefined;
    if (!fn || typeof fn !== "object") throw invalidField(`${p}.function`, "an object", fn);
    const name = fn.name;
    if (typeof name !== "string" || name === "") {
      throw invalidField(`${p}.function.name`, "a non-empty string", name);
    }
    const args = fn.arguments ?? {};
    if (typeof args !== "string" && (typeof args !== "object" || Array.isArray(args))) {
      throw invalidField(`${p}.function.arguments`, "an object", args);
    }
    const out: NonNullable<OllamaMessage["tool_calls"]>[number] = { name, arguments: args };
    const id = optionalString(call, "id", `${p}.id`);
    if (id) out.id = id;
    return out;
  });
}

function parseMessage(raw: unknown, i: number): OllamaMessage {
  const path = `messages[${i}]`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw invalidField(path, "an object", raw);
  }
  const m = raw as Body;
  const role = optionalString(m, "role", `${path}.role`);
  if (!role) throw new ProxyError(400, `invalid "${path}.role": a role is required`);
  const msg: OllamaMessage = { role: role.toLowerCase(), content: "" };
  if (Array.isArray(m.content)) msg.parts = m.content;
  else if (m.content !== undefined && m.content !== null) {
    if (typeof m.content !== "string") throw invalidField(`${path}.content`, "a string", m.content);
    msg.content = m.content;
  }
  const thinking = optionalString(m, "thinking", `${path}.thinking`);
  if (thinking) msg.thinking = thinking;
  const images = parseImages(m.images, `${path}.images`);
  if (images && images.length > 0) msg.images = images;
  const calls = parseToolCalls(m.tool_calls, `${path}.tool_calls`);
  if (calls && calls.length > 0) msg.tool_calls = calls;
  const toolName = optionalString(m, "tool_name", `${path}.tool_name`) ??
    optionalString(m, "name", `${path}.name`);
  if (toolName) msg.tool_name = toolName;
  const toolCallId = optionalString(m, "tool_call_id", `${path}.tool_call_id`);
  if (toolCallId) msg.tool_call_id = toolCallId;
  return msg;
}

/** Parses an `/api/chat` body. A missing model is the caller's to report (wording differs). */
export function parseChatRequest(body: Body): ChatRequest {
  const req: ChatRequest = { ...parseCommon(body), messages: [] };
  const messages = body.messages;
  if (messages !== undefined && messages !== null) {
    if (!Array.isArray(messages)) throw invalidField("messages", "an array", messages);
    req.messages = messages.map(parseMessage);
  }
  const tools = body.tools;
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) throw invalidField("tools", "an array", tools);
    tools.forEach((t, i) => {
      if (t === null || typeof t !== "object" || Array.isArray(t)) {
        throw invalidField(`tools[${i}]`, "an object", t);
      }
    });
    if (tools.length > 0) req.tools = tools;
  }
  return req;
}

/** Parses an `/api/generate` body, including Ollama's raw-mode rule. */
export function parseGenerateRequest(body: Body): GenerateRequest {
  const req: GenerateRequest = {
    ...parseCommon(body),
    prompt: optionalString(body, "prompt") ?? "",
    raw: false,
  };
  const raw = body.raw;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== "boolean") throw invalidField("raw", "true or false", raw);
    req.raw = raw;
  }
  for (const key of ["suffix", "system", "template"] as const) {
    const v = optionalString(body, key);
    if (v) req[key] = v;
  }
  const context = body.context;
  if (context !== undefined && context !== null) {
    if (!Array.isArray(context) || !context.every((n) => Number.isInteger(n))) {
      throw invalidField("context", "an array of integers", context);
    }
    if (context.length > 0) req.context = context;
  }
  const images = parseImages(body.images, "images");
  if (images && images.length > 0) req.images = images;
  if (req.raw && (req.template || req.system || req.context)) {
    throw new ProxyError(400, "raw mode does not support template, system, or context");
  }
  return req;
}
