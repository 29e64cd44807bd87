/**
 * `POST /v1/messages/count_tokens`, answered by the proxy itself: Chutes has no such endpoint,
 * and every upstream call counts against the user's daily request quota, while Claude Code
 * calls this one in bursts (`/context`: one call per entry). The count is an estimate over
 * exactly what `/v1/messages` would send upstream (the same translation, so a dropped billing
 * header or server tool is not counted, and no system prompt is added): four characters a
 * token over every message's text, reasoning and tool calls, four tokens of overhead per
 * message, 768 per image, and the tool declarations as JSON text — at least 1.
 */
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";
import type { OpenAIMessage } from "../../upstream/wire.ts";
import { parseMessagesRequest, readJsonObject } from "./parse.ts";
import { toChatPlan } from "./to_upstream.ts";

const IMAGE_TOKENS = 768;

function contentChars(content: OpenAIMessage["content"]): { chars: number; images: number } {
  if (typeof content === "string") return { chars: content.length, images: 0 };
  let chars = 0;
  let images = 0;
  for (const part of content ?? []) {
    if (part.type === "image_url") images++;
    else if ("text" in part && typeof part.text === "string") chars += part.text.length;
  }
  return { chars, images };
}

/** The estimated prompt tokens of an upstream chat body (messages and tools). */
export function estimateInputTokens(body: Record<string, unknown>): number {
  let tokens = 0;
  for (const m of body.messages as (OpenAIMessage & { reasoning_content?: string })[]) {
    const { chars, images } = contentChars(m.content);
    let extra = m.reasoning_content?.length ?? 0;
    if (m.tool_calls) extra += JSON.stringify(m.tool_calls).length;
    tokens += 4 + Math.ceil((chars + extra) / 4) + IMAGE_TOKENS * images;
  }
  if (body.tools) tokens += Math.ceil(JSON.stringify(body.tools).length / 4);
  return Math.max(1, tokens);
}

/** `POST /v1/messages/count_tokens`: `{"input_tokens": N}` without an upstream call. */
export async function handleCountTokens(
  request: Request,
  _deps: CoreDeps,
  ctx: RequestContext,
): Promise<Response> {
  const req = parseMessagesRequest(await readJsonObject(request), true);
  ctx.model = req.model;
  const { plan } = toChatPlan(req);
  return Response.json({ input_tokens: estimateInputTokens(plan.body) });
}
