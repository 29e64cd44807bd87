/**
 * Pure translation of checked Ollama requests into upstream OpenAI-compatible bodies: messages
 * (images → data-URL parts, tool-call arguments → JSON strings, tool results paired with call
 * ids, an assistant turn's `thinking` → `reasoning_content`), `think`, `format`, logprobs and the
 * sampling parameters from the parameter table. The upstream is always asked to stream with
 * usage, so one stream path serves both reply modes. The conversation policy (default system
 * prompt, history limit, context guard) is the core's, applied to every door alike.
 */
import type { Config } from "../../config/config.ts";
import { ProxyError } from "../../base/errors.ts";
import { toDataUrl } from "./images.ts";
import type { ChatRequest, CommonRequest, GenerateRequest, OllamaMessage } from "./types.ts";
import type {
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIMessage,
  OpenAIToolCall,
} from "../../upstream/wire.ts";
import { toSamplingParams } from "./options.ts";

/** An upstream request ready to send, with the client fields that could not be forwarded. */
export interface UpstreamRequest {
  path: "/chat/completions" | "/completions";
  body: Record<string, unknown>;
  ignored: string[];
}

type Policy = Pick<Config, "defaults">;

function userContent(msg: OllamaMessage): OpenAIMessage["content"] {
  if (!msg.images && !msg.parts) return msg.content;
  const parts: OpenAIContentPart[] = msg.parts ? [...(msg.parts as OpenAIContentPart[])] : [];
  if (msg.content !== "") parts.unshift({ type: "text", text: msg.content });
  for (const image of msg.images ?? []) {
    parts.push({ type: "image_url", image_url: { url: toDataUrl(image) } });
  }
  return parts;
}

function argumentsJson(args: unknown, path: string): string {
  if (typeof args !== "string") return JSON.stringify(args);
  try {
    JSON.parse(args);
  } catch {
    throw new ProxyError(400, `invalid "${path}": tool call arguments are not valid JSON`);
  }
  return args;
}

/** Translates Ollama messages, pairing each tool result with the call it answers. */
export function toOpenAIMessages(messages: readonly OllamaMessage[]): OpenAIMessage[] {
  const pending: { id: string; name: string }[] = [];
  return messages.map((msg, i) => {
    const out: OpenAIMessage = { role: msg.role, content: userContent(msg) };
    // Thinking models (Kimi K2, DeepSeek, Qwen3) reject a tool-call turn without its reasoning.
    if (msg.role === "assistant" && msg.thinking) out.reasoning_content = msg.thinking;
    if (msg.tool_calls) {
      out.tool_calls = msg.tool_calls.map((call, k): OpenAIToolCall => {
        const id = call.id ?? `call_${i}_${k}`;
        pending.push({ id, name: call.name });
        const path = `messages[${i}].tool_calls[${k}].function.arguments`;
        return {
          id,
          type: "function",
          function: { name: call.name, arguments: argumentsJson(call.arguments, path) },
        };
      });
    }
    if (msg.role === "tool") {
      const at = msg.tool_call_id !== undefined
        ? pending.findIndex((p) => p.id === msg.tool_call_id)
        : Math.max(0, pending.findIndex((p) => p.name === msg.tool_name));
      const match = pending.splice(at, at >= 0 && pending.length > 0 ? 1 : 0)[0];
      out.tool_call_id = msg.tool_call_id ?? match?.id ?? `call_${i}_orphan`;
      const name = msg.tool_name ?? match?.name;
      if (name) out.name = name;
    }
    return out;
  });
}

function applyCommon(body: Record<string, unknown>, req: CommonRequest, policy: Policy): string[] {
  const { params, ignored } = toSamplingParams(policy.defaults, req.options);
  Object.assign(body, params);
  if (req.format === "json") body.response_format = { type: "json_object" };
  else if (req.format) {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: "schema", schema: req.format },
    };
  }
  if (req.think !== undefined) {
    const on = req.think !== false;
    body.chat_template_kwargs = { thinking: on, enable_thinking: on };
    if (typeof req.think === "string") {
      body.reasoning_effort = req.think === "max" ? "high" : req.think;
    }
  }
  if (req.logprobs) {
    body.logprobs = true;
    if (req.top_logprobs) body.top_logprobs = req.top_logprobs;
  }
  return ignored;
}

/** Builds the upstream chat request for `/api/chat`. */
export function toOpenAIChatRequest(
  req: ChatRequest,
  upstreamModel: string,
  policy: Policy,
): UpstreamRequest {
  const body: OpenAIChatRequest = {
    model: upstreamModel,
    messages: toOpenAIMessages(req.messages),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (req.tools) body.tools = req.tools;
  const ignored = applyCommon(body, req, policy);
  return { path: "/chat/completions", body, ignored };
}

const SUFFIX_IGNORED = "suffix (fill-in-the-middle is not sent upstream)";

/** Builds the upstream request for `/api/generate`: a chat request, or a raw completion. */
export function toOpenAIGenerateRequest(
  req: GenerateRequest,
  upstreamModel: string,
  policy: Policy,
): UpstreamRequest {
  if (req.raw) {
    const body: Record<string, unknown> = {
      model: upstreamModel,
      prompt: req.prompt,
      stream: true,
      stream_options: { include_usage: true },
    };
    const ignored = applyCommon(body, req, policy);
    if (req.images) ignored.push("images (raw mode sends text only)");
    if (req.suffix) ignored.push(SUFFIX_IGNORED);
    return { path: "/completions", body, ignored };
  }
  const messages: OllamaMessage[] = [];
  if (req.system) messages.push({ role: "system", content: req.system });
  const user: OllamaMessage = { role: "user", content: req.prompt };
  if (req.images) user.images = req.images;
  messages.push(user);
  const chat = toOpenAIChatRequest({ ...req, messages }, upstreamModel, policy);
  if (req.suffix) chat.ignored.push(SUFFIX_IGNORED);
  if (req.template) chat.ignored.push("template (the upstream applies its own chat template)");
  if (req.context) {
    chat.ignored.push("context (deprecated; not supported by OpenAI-compatible upstreams)");
  }
  return chat;
}
