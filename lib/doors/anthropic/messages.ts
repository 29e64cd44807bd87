/**
 * `POST /v1/messages` (Claude Code calls it with `?beta=true`; the router matches the path only):
 * the body is checked (parse.ts), translated into the core's plan (to_upstream.ts) and run by
 * the chat core, which resolves the model, clamps `max_tokens`, retries and falls back before
 * the first byte. A streamed answer goes out through the SSE encoder with `ping` events while
 * the first token is pending (Chutes' thinking models are often silent for tens of seconds);
 * `stream: false` — Claude Code's retry when a stream failed — is gathered by the collector.
 */
import { collectAnswer, collectedResponse, openChat, streamAnswer } from "../../core/chat.ts";
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { ProxyError } from "../../base/errors.ts";
import { MessageCollector } from "./collect.ts";
import { streamErrorType } from "./errors.ts";
import { AnthropicSseEncoder } from "./encode.ts";
import { parseMessagesRequest, readJsonObject } from "./parse.ts";
import { toChatPlan } from "./to_upstream.ts";

/**
 * Keep-alive interval before the first token. Anthropic's own API pings about every 15 s
 * (agent-doors.md A.6); 10 s keeps well inside common 30 s proxy idle limits.
 */
export const PING_MS = 10_000;

/** `POST /v1/messages`, streamed or not. */
export async function handleMessages(
  request: Request,
  deps: CoreDeps,
  ctx: RequestContext,
  pingMs = PING_MS,
): Promise<Response> {
  const req = parseMessagesRequest(await readJsonObject(request));
  const { plan, dropped } = toChatPlan(req);
  if (dropped.length > 0) {
    deps.log.debug(`anthropic: dropped from the history: ${dropped.join(", ")}`);
  }
  const answer = await openChat(plan, deps, ctx, request.signal);
  if (req.stream) {
    return streamAnswer(
      answer,
      (write) => new AnthropicSseEncoder(write, answer.model, answer.promptEstimate),
      { contentType: "text/event-stream", pingMs },
    );
  }
  const collector = new MessageCollector(answer.model);
  try {
    await collectAnswer(answer, collector);
  } catch (err) {
    // A capacity failure mid-answer is the same overload as when streamed: 529, which Claude
    // Code retries with backoff, not a 502 `api_error` it gives up on.
    if (
      err instanceof ProxyError && err.status === 502 &&
      streamErrorType(err.message) !== "api_error"
    ) {
      throw new ProxyError(529, err.message);
    }
    throw err;
  }
  return collectedResponse(answer, collector.message());
}
