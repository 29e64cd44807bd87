/**
 * Pure translation of a checked Responses request into the core's `ChatPlan`: `instructions` and
 * `developer`/`system` messages become system messages (consecutive ones merged, since many chat
 * templates read only one); message items become chat messages (text parts joined by a newline,
 * images as `image_url` parts); replayed `function_call` and `custom_tool_call` items become the
 * assistant's `tool_calls` (joined to the assistant message just before them) and their outputs
 * `tool` messages; replayed reasoning rides on the next assistant message as `reasoning_content`.
 * Then the tools, `tool_choice`, sampling, `max_output_tokens`, `reasoning.effort` and
 * `text.format` in the fields vLLM and SGLang read (the core adds the server's defaults).
 */
import type { ChatPlan } from "../../core/chat.ts";
import { flatName, type ToolNames, toUpstreamTools } from "./tools.ts";
import type { ContentPart, InputItem, ResponsesRequest } from "./types.ts";

/** An upstream chat message as this door writes it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | Record<string, unknown>[];
  reasoning_content?: string;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

function joinText(content: string | ContentPart[]): string {
  if (typeof content === "string") return content;
  return content.flatMap((p) => p.type === "input_image" ? [] : [p.text]).join("\n");
}

function images(content: string | ContentPart[]): Record<string, unknown>[] {
  if (typeof content === "string") return [];
  return content.flatMap((p) =>
    p.type === "input_image" ? [{ type: "image_url", image_url: { url: p.image_url } }] : []
  );
}

/** Builds the chat messages of `items`; `notes` hears what had to be dropped. */
export function toChatMessages(
  instructions: string | undefined,
  items: readonly InputItem[],
  notes: Set<string>,
): { messages: ChatMessage[]; vision: boolean } {
  const out: ChatMessage[] = [];
  let reasoning = "";
  let toolImages: Record<string, unknown>[] = [];
  let vision = false;
  const last = () => out[out.length - 1];
  const push = (message: ChatMessage) => {
    if (message.role !== "tool" && toolImages.length > 0) {
      // A chat tool message holds text only: a tool's images follow its results as user content.
      out.push({ role: "user", content: toolImages });
      toolImages = [];
    }
    if (message.role !== "assistant" && reasoning !== "") {
      notes.add("reasoning items not followed by an assistant turn");
      reasoning = "";
    }
    out.push(message);
  };
  const system = (text: string) => {
    const prev = last();
    if (prev?.role === "system" && typeof prev.content === "string") {
      prev.content = `${prev.content}\n\n${text}`;
    } else push({ role: "system", content: text });
  };
  const assistant = (): ChatMessage => {
    const prev = last();
    const target = prev?.role === "assistant" ? prev : { role: "assistant" as const, content: "" };
    if (target !== prev) push(target);
    if (reasoning !== "") {
      target.reasoning_content = target.reasoning_content
        ? `${target.reasoning_content}\n${reasoning}`
        : reasoning;
      reasoning = "";
    }
    return target;
  };
  if (instructions) system(instructions);
  for (const item of items) {
    switch (item.type) {
      case "message": {
        const text = joinText(item.content);
        if (item.role === "system" || item.role === "developer") system(text);
        else if (item.role === "assistant") {
          const target = assistant();
          target.content = target.content === "" ? text : `${target.content}\n${text}`;
        } else {
          const pictures = images(item.content);
          vision ||= pictures.length > 0;
          push({
            role: "user",
            content: pictures.length === 0
              ? text
              : [...(text === "" ? [] : [{ type: "text", text }]), ...pictures],
          });
        }
        break;
      }
      case "function_call":
      case "custom_tool_call": {
        const target = assistant();
        target.tool_calls ??= [];
        target.tool_calls.push({
          id: item.call_id,
          type: "function",
          function: {
            name: flatName(item.name, item.namespace),
            arguments: item.type === "function_call"
              ? item.arguments
              : JSON.stringify({ input: item.input }),
          },
        });
        break;
      }
      case "function_call_output":
      case "custom_tool_call_output": {
        const pictures = images(item.output);
        vision ||= pictures.length > 0;
        toolImages.push(...pictures);
        push({ role: "tool", tool_call_id: item.call_id, content: joinText(item.output) });
        break;
      }
      case "reasoning":
        if (item.text !== "") {
          reasoning = reasoning === "" ? item.text : `${reasoning}\n${item.text}`;
        }
        break;
    }
  }
  if (toolImages.length > 0) out.push({ role: "user", content: toolImages });
  if (reasoning !== "") notes.add("reasoning items not followed by an assistant turn");
  return { messages: out, vision };
}

/** `reasoning.effort` in the values vLLM accepts (`max`, `xhigh`, `ultra` → `high`). */
function thinkingFields(effort: string | undefined): Record<string, unknown> {
  if (effort === undefined) return {};
  if (effort === "none") {
    return { chat_template_kwargs: { thinking: false, enable_thinking: false } };
  }
  const level = effort === "minimal"
    ? "low"
    : effort === "low" || effort === "medium"
    ? effort
    : "high";
  return {
    chat_template_kwargs: { thinking: true, enable_thinking: true },
    reasoning_effort: level,
  };
}

/**
 * The core's plan for `request` (its input already expanded with any earlier response); the
 * core fills the server's generation `defaults` the client left out.
 */
export function toChatPlan(request: ResponsesRequest): { plan: ChatPlan; names: ToolNames } {
  const notes = new Set(request.ignored);
  const { messages, vision } = toChatMessages(request.instructions, request.input, notes);
  const body: Record<string, unknown> = { messages };
  const { tools, toolChoice, names } = toUpstreamTools(request.tools, request.toolChoice);
  if (tools.length > 0) {
    body.tools = tools;
    body.tool_choice = toolChoice;
    if (request.parallelToolCalls !== undefined) {
      body.parallel_tool_calls = request.parallelToolCalls;
    }
  }
  if (request.maxOutputTokens !== undefined) body.max_tokens = request.maxOutputTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topLogprobs !== undefined && request.topLogprobs > 0) {
    body.logprobs = true;
    body.top_logprobs = request.topLogprobs;
  }
  const format = request.format;
  if (format?.type === "json_object") body.response_format = { type: "json_object" };
  else if (format) {
    const { type: _type, ...jsonSchema } = format;
    body.response_format = { type: "json_schema", json_schema: jsonSchema };
  }
  Object.assign(body, thinkingFields(request.effort));
  const thinking = request.effort !== undefined && request.effort !== "none";
  const plan: ChatPlan = {
    door: "responses",
    model: request.model,
    path: "/chat/completions",
    body,
    ignored: [...notes],
    needs: {
      ...(tools.length > 0 ? { tools: true } : {}),
      ...(thinking ? { thinking: true } : {}),
      ...(vision ? { vision: true } : {}),
    },
    // Codex asks every model for reasoning; a model without it answers without, as on OpenAI.
    relaxThinking: true,
    maxTokensField: "max_output_tokens",
  };
  return { plan, names };
}
