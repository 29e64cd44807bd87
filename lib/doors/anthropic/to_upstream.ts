/**
 * Pure translation of a checked Messages request into the chat core's `ChatPlan`: an OpenAI chat
 * body as Chutes understands it. The system prompt is one leading message, folded from `system`
 * and from `role: "system"` entries inside `messages[]` (templates that demand a single leading
 * system message break otherwise: router-for-me/CLIProxyAPI#3625); `tool_use` becomes assistant
 * `tool_calls` with JSON-string arguments (Chutes rejects objects); `tool_result` blocks become
 * `tool` messages placed before the user's own text; `thinking` becomes `reasoning_content` on
 * that assistant message, never a content part (BerriAI/litellm#22997); images become data-URL
 * parts. Fields with no upstream equivalent are listed in `ignored` (sent back in a header);
 * blocks dropped from the history are listed in `dropped` (a debug note).
 */
import { ProxyError } from "../../base/errors.ts";
import type { ChatPlan } from "../../core/chat.ts";
import type { OpenAIContentPart, OpenAIMessage, OpenAIToolCall } from "../../upstream/wire.ts";
import type { ImageSource, MessageParam, MessagesRequest, TextOrImage } from "./types.ts";

/** A plan for the core, and the history blocks that could not be sent. */
export interface Translation {
  plan: ChatPlan;
  dropped: string[];
}

/**
 * Claude Code's first system block (`x-anthropic-billing-header: cc_version=2.1.197.123; …`)
 * is billing metadata for Anthropic, and its suffix changes between requests
 * (agent-captures/claude-code-*.request.json): left in, it would defeat the upstream's prefix
 * cache at the very first token. `ollama launch` turns it off for the same reason
 * (`CLAUDE_CODE_ATTRIBUTION_HEADER=0`).
 */
const BILLING_HEADER = /^x-anthropic-billing-header:/;

const EFFORTS: Readonly<Record<string, string>> = {
  low: "low",
  medium: "medium",
  high: "high",
  xhigh: "high",
  max: "high",
};

/** An image source as an upstream `image_url` (a data URL for base64 data). */
export function imageUrl(source: ImageSource): string {
  if (source.type === "url") return source.url;
  return `data:${source.media_type};base64,${source.data.replace(/\s+/g, "")}`;
}

const imagePart = (source: ImageSource): OpenAIContentPart => ({
  type: "image_url",
  image_url: { url: imageUrl(source) },
});

/** A message's text and image parts as upstream content: a string unless images are present. */
function content(parts: OpenAIContentPart[]): OpenAIMessage["content"] {
  if (parts.some((p) => p.type === "image_url")) return parts;
  return parts.map((p) => (p as { text: string }).text).join("\n");
}

/** A tool result's text; its images travel in the next user message (tool messages are text). */
function toolResultText(blocks: readonly TextOrImage[], isError: boolean): string {
  const texts: string[] = [];
  let images = 0;
  for (const b of blocks) {
    if (b.type === "text") texts.push(b.text);
    else images++;
  }
  let text = texts.join("\n");
  if (images > 0) text += `${text === "" ? "" : "\n"}[${images} image(s) attached below]`;
  return isError ? `Error: ${text}` : text;
}

/** State gathered while walking the history. */
interface Walk {
  system: string[];
  out: OpenAIMessage[];
  dropped: string[];
  images: number;
}

function translateMessage(m: MessageParam, i: number, w: Walk): void {
  const parts: OpenAIContentPart[] = [];
  const tools: OpenAIMessage[] = [];
  const toolImages: OpenAIContentPart[] = [];
  const calls: OpenAIToolCall[] = [];
  const reasoning: string[] = [];
  m.content.forEach((b, k) => {
    switch (b.type) {
      case "text":
        if (m.role === "system") w.system.push(b.text);
        else parts.push({ type: "text", text: b.text });
        break;
      case "image":
        parts.push(imagePart(b.source));
        w.images++;
        break;
      case "tool_use":
        calls.push({
          id: b.id,
          type: "function",
          function: { name: b.name, arguments: JSON.stringify(b.input) },
        });
        break;
      case "tool_result":
        tools.push({
          role: "tool",
          tool_call_id: b.tool_use_id,
          content: toolResultText(b.content, b.is_error),
        });
        for (const r of b.content) {
          if (r.type !== "image") continue;
          toolImages.push(imagePart(r.source));
          w.images++;
        }
        break;
      case "thinking":
        if (b.thinking !== "") reasoning.push(b.thinking);
        break;
      case "dropped":
        w.dropped.push(`messages[${i}].content[${k}] (${b.kind})`);
    }
  });
  if (m.role === "system") {
    if (parts.length > 0) w.dropped.push(`messages[${i}] (images in a system message)`);
    return;
  }
  parts.unshift(...toolImages);
  // Tool results answer the previous assistant turn, so they come before the user's own words
  // (Ollama's TestFromMessagesRequest_WithToolResultFollowedByUserText).
  if (m.role === "user") w.out.push(...tools);
  if (parts.length > 0 || calls.length > 0 || reasoning.length > 0) {
    const msg: OpenAIMessage & { reasoning_content?: string } = {
      role: m.role,
      content: content(parts),
    };
    if (calls.length > 0) msg.tool_calls = calls;
    if (reasoning.length > 0) msg.reasoning_content = reasoning.join("\n\n");
    w.out.push(msg);
  }
  if (m.role !== "user") w.out.push(...tools);
}

function toolChoice(req: MessagesRequest, body: Record<string, unknown>, ignored: string[]): void {
  const choice = req.tool_choice;
  if (!choice) return;
  if (req.tools.length === 0) {
    if (choice.type !== "none" && choice.type !== "auto") {
      ignored.push(`tool_choice (no client tools to choose from)`);
    }
    return;
  }
  if (choice.type === "tool") {
    if (!req.tools.some((t) => t.name === choice.name)) {
      throw new ProxyError(400, `invalid "tool_choice.name": no tool named "${choice.name}"`);
    }
    body.tool_choice = { type: "function", function: { name: choice.name } };
  } else body.tool_choice = choice.type === "any" ? "required" : choice.type;
  if (choice.disable_parallel_tool_use) body.parallel_tool_calls = false;
}

/** `thinking` and `output_config.effort` as Chutes' templates and vLLM/SGLang read them. */
function thinking(req: MessagesRequest, body: Record<string, unknown>, ignored: string[]): boolean {
  let level: string | undefined;
  if (req.effort !== undefined) {
    level = EFFORTS[req.effort];
    if (!level) {
      ignored.push(`output_config.effort ("${req.effort}" is not low, medium, high, xhigh or max)`);
    }
  }
  if (req.thinking === "disabled") {
    body.chat_template_kwargs = { thinking: false, enable_thinking: false };
    return false;
  }
  // `adaptive` without an effort leaves the model's own default, as Ollama does.
  if (req.thinking !== "enabled" && level === undefined) return false;
  body.chat_template_kwargs = { thinking: true, enable_thinking: true };
  if (level) body.reasoning_effort = level;
  return true;
}

/** Translates a checked request into the core's plan (pure; throws 400 for a bad `tool_choice`). */
export function toChatPlan(req: MessagesRequest): Translation {
  const ignored: string[] = [];
  const w: Walk = { system: [], out: [], dropped: [], images: 0 };
  for (const text of req.system) {
    if (BILLING_HEADER.test(text)) w.dropped.push("system (x-anthropic-billing-header)");
    else w.system.push(text);
  }
  req.messages.forEach((m, i) => translateMessage(m, i, w));
  const system = w.system.filter((s) => s !== "").join("\n\n");
  const messages = system === "" ? w.out : [{ role: "system", content: system }, ...w.out];
  const body: Record<string, unknown> = { messages };
  if (req.max_tokens > 0) body.max_tokens = req.max_tokens;
  for (const { index, type } of req.server_tools) {
    ignored.push(`tools[${index}] (${type}: an Anthropic server tool, not available upstream)`);
  }
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        parameters: t.input_schema,
      },
    }));
  }
  toolChoice(req, body, ignored);
  const thinks = thinking(req, body, ignored);
  if (req.stop_sequences) body.stop = req.stop_sequences;
  for (const key of ["temperature", "top_p", "top_k"] as const) {
    if (req[key] !== undefined) body[key] = req[key];
  }
  if (req.json_schema) {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: "output", schema: req.json_schema },
    };
  }
  const plan: ChatPlan = {
    door: "anthropic",
    model: req.model,
    path: "/chat/completions",
    body,
    ignored,
    needs: {
      ...(req.tools.length > 0 ? { tools: true } : {}),
      ...(thinks ? { thinking: true } : {}),
      ...(w.images > 0 ? { vision: true } : {}),
    },
    relaxThinking: true,
  };
  return { plan, dropped: w.dropped };
}
