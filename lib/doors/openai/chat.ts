/**
 * `POST /v1/chat/completions` and `POST /v1/completions`, for clients such as GitHub Copilot,
 * OpenCode and the Continue CLI. The request is checked, then forwarded through the chat core
 * like every door's: the model resolves like on `/api/*` (tags, aliases), capabilities are
 * checked, the server's generation defaults fill fields the client left out, the policy (system
 * prompt, history limit, context guard) and the `max_tokens` clamp apply, and the upstream's
 * stream is interpreted and re-encoded in OpenAI's shape (lib/doors/openai/encode.ts) with the
 * requested model name — so tokens are counted, Chutes' bare error lines and malformed chunks
 * become error events, and no upstream byte reaches the client unread. Fields the proxy does not
 * know pass to the upstream as they are.
 */
import { ProxyError } from "../../base/errors.ts";
import { collectAnswer, collectedResponse, openChat, streamAnswer } from "../../core/chat.ts";
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { OpenAICollector, OpenAIEncoder, type OpenAIKind } from "./encode.ts";
import { readBody, requireModel } from "./request.ts";

/** Checks `messages`; an assistant turn's `reasoning` goes upstream as `reasoning_content`. */
function checkMessages(body: Record<string, unknown>): boolean {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ProxyError(400, "[] is too short - 'messages'");
  }
  let images = false;
  messages.forEach((m, i) => {
    if (m === null || typeof m !== "object" || typeof m.role !== "string") {
      throw new ProxyError(400, `invalid 'messages[${i}]': expected an object with a 'role'`);
    }
    if (m.role === "assistant" && typeof m.reasoning === "string") {
      // Thinking models reject a tool-call turn without its reasoning; keep it, in vLLM's name.
      m.reasoning_content ??= m.reasoning;
      delete m.reasoning;
    }
    if (Array.isArray(m.content)) {
      images ||= m.content.some((p: unknown) =>
        p !== null && typeof p === "object" && (p as { type?: unknown }).type === "image_url"
      );
    }
  });
  return images;
}

/** Ollama's reading of `reasoning_effort` (or `reasoning.effort`), in the values vLLM accepts. */
function mapReasoningEffort(body: Record<string, unknown>): void {
  const nested = body.reasoning as { effort?: unknown } | undefined;
  const effort = body.reasoning_effort ??
    (nested && typeof nested === "object" ? nested.effort : undefined);
  if (effort === undefined || effort === null) return;
  delete body.reasoning;
  const level = ({
    minimal: "low",
    low: "low",
    medium: "medium",
    high: "high",
    max: "high",
    xhigh: "high",
    ultra: "high",
  } as Record<string, string>)[String(effort)];
  if (effort === "none") {
    delete body.reasoning_effort;
    const kwargs = (body.chat_template_kwargs as Record<string, unknown> | undefined) ?? {};
    body.chat_template_kwargs = { ...kwargs, thinking: false, enable_thinking: false };
  } else if (level) {
    body.reasoning_effort = level;
  } else {
    throw new ProxyError(
      400,
      `invalid reasoning value: '${effort}' (must be "none", "minimal", "low", "medium", "high", "xhigh" or "max")`,
    );
  }
}

/** `POST /v1/chat/completions` and `POST /v1/completions`. */
export async function handleOpenAICompletion(
  path: "/chat/completions" | "/completions",
  request: Request,
  deps: CoreDeps,
  ctx: RequestContext,
): Promise<Response> {
  const body = await readBody(request);
  const model = requireModel(body);
  const kind: OpenAIKind = path === "/chat/completions" ? "chat" : "text";
  const images = kind === "chat" ? checkMessages(body) : false;
  if (kind === "text" && typeof body.prompt !== "string" && !Array.isArray(body.prompt)) {
    throw new ProxyError(400, "invalid 'prompt': expected a string");
  }
  const stream = body.stream === true;
  const includeUsage =
    (body.stream_options as { include_usage?: unknown } | null | undefined)?.include_usage ===
      true;
  delete body.model;
  delete body.stream;
  delete body.stream_options;
  const ignored: string[] = [];
  // Newer OpenAI clients name the output limit max_completion_tokens; vLLM reads max_tokens.
  let maxTokensField = "max_tokens";
  if (body.max_completion_tokens !== undefined && body.max_completion_tokens !== null) {
    body.max_tokens = body.max_completion_tokens;
    maxTokensField = "max_completion_tokens";
  }
  delete body.max_completion_tokens;
  if (kind === "text" && Array.isArray(body.prompt) && body.prompt.length > 1) {
    throw new ProxyError(400, "invalid 'prompt': one prompt per request (each is billed)");
  }
  if (typeof body.n === "number" && body.n > 1) {
    ignored.push(`n (${body.n} choices asked; one is answered)`);
  }
  delete body.n;
  const thinking = body.reasoning_effort !== undefined || body.reasoning !== undefined;
  mapReasoningEffort(body);
  const tools = Array.isArray(body.tools) && body.tools.length > 0;
  const answer = await openChat(
    {
      door: "openai",
      model,
      path,
      body,
      ignored,
      needs: { tools, vision: images, thinking },
      relaxThinking: true,
      maxTokensField,
    },
    deps,
    ctx,
    request.signal,
  );
  const options = {
    kind,
    model: answer.model,
    includeUsage,
    created: Math.floor(Date.now() / 1000),
  };
  if (stream) {
    return streamAnswer(answer, (write) => new OpenAIEncoder(options, write), {
      contentType: "text/event-stream",
    });
  }
  const collector = new OpenAICollector(options);
  await collectAnswer(answer, collector);
  return collectedResponse(answer, collector.result());
}
