/**
 * The OpenAI-compatible front door (`/v1/*`), for clients such as GitHub Copilot and the
 * Continue CLI that chat through it. Requests are forwarded to Chutes almost as they are: the
 * model name is resolved like on `/api/*` (tags, aliases), the server's generation defaults fill
 * fields the client left out, the default system prompt and history limit apply to chat, and
 * the server's token is used. Streams pass through byte for byte (lib/sse_relay.ts), except
 * that Chutes' bare mid-stream error line is rewritten as an SSE error event OpenAI SDKs
 * understand and its usage-only chunk is dropped unless the client asked for usage. Errors use
 * OpenAI's `{"error": {"message", "type", "param", "code"}}` shape with the upstream status.
 */
import type { RequestContext } from "../../core/context.ts";
import { ProxyError } from "../../base/errors.ts";
import { postWithFallbacks } from "../../core/fallback.ts";
import { trimHistory } from "../../core/policy.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { readBody, requireModel } from "./request.ts";
import { OpenAISseStream } from "./sse_relay.ts";

function applyChatPolicy(body: Record<string, unknown>, deps: CoreDeps): void {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ProxyError(400, "[] is too short - 'messages'");
  }
  if (!messages.every((m) => m !== null && typeof m === "object" && typeof m.role === "string")) {
    throw new ProxyError(400, "each of 'messages' must be an object with a 'role'");
  }
  let out = messages as { role: string }[];
  const prompt = deps.config.default_system_prompt;
  if (prompt && !out.some((m) => m.role === "system" || m.role === "developer")) {
    out = [{ role: "system", content: prompt } as { role: string }, ...out];
  }
  body.messages = trimHistory(out, deps.config.max_history_messages);
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

function applyDefaults(body: Record<string, unknown>, deps: CoreDeps): void {
  for (const [key, value] of Object.entries(deps.config.defaults)) {
    if (value !== null && value !== undefined && !(key in body)) body[key] = structuredClone(value);
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
  const resolved = await deps.catalogue.resolve(model);
  if (!resolved) throw new ProxyError(404, `model '${model}' not found`);
  body.model = resolved.upstreamId;
  if (path === "/chat/completions") applyChatPolicy(body, deps);
  mapReasoningEffort(body);
  applyDefaults(body, deps);
  if (resolved.facts) deps.running.touch(resolved.facts, undefined);
  ctx.model = model;
  const answered = await postWithFallbacks(
    path,
    body,
    resolved,
    model,
    request.signal,
    deps,
    ctx.trace,
  );
  ctx.model = answered.name;
  const headers: Record<string, string> = answered.fallback
    ? { "x-proxy-fallback": `${resolved.upstreamId} -> ${answered.model.upstreamId}` }
    : {};
  const stream = body.stream === true;
  if (stream) ctx.startStream();
  // Chutes always adds the usage chunk (`choices: []`); a client that did not ask for it may
  // index `choices[0]` on every chunk (the OpenAI quickstart loop does), so it is dropped.
  const wantsUsage =
    (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  return relay(answered.response, stream, headers, (note) => ctx.end(200, note), !wantsUsage);
}

/** Hands an upstream answer to the client: SSE through the bare-line fix, JSON as it is. */
function relay(
  res: Response,
  stream: boolean,
  headers: Record<string, string>,
  onEnd: (note?: string) => void,
  dropUsage = false,
): Response {
  if (stream) {
    return new Response(new OpenAISseStream(res.body!, { dropUsage, onEnd }), {
      headers: { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  }
  return new Response(res.body, { headers: { ...headers, "content-type": "application/json" } });
}
