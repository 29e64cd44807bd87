/**
 * `POST /v1/messages/count_tokens`, answered by the proxy itself: Chutes has no such endpoint,
 * and every upstream call counts against the user's daily request quota, while Claude Code
 * calls this one in bursts (`/context`: one call per entry). The count is an estimate over
 * exactly what `/v1/messages` would send upstream (the same translation, so a dropped billing
 * header or server tool is not counted, and no system prompt is added): the core's estimate of
 * the messages (four characters a token over text, reasoning and tool calls, four tokens of
 * overhead per message, 768 per image) plus the tool declarations as JSON text, four characters
 * a token — at least 1.
 */
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { estimateTokens, type PolicyMessage } from "../../core/policy.ts";
import { parseMessagesRequest, readJsonObject } from "./parse.ts";
import { toChatPlan } from "./to_upstream.ts";

/** The estimated prompt tokens of an upstream chat body: its messages and its tools. */
export function estimateInputTokens(body: Record<string, unknown>): number {
  let tokens = estimateTokens(body.messages as PolicyMessage[]);
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
  // No upstream call, no model recorded: a count is not a request Chutes sees or bills.
  ctx.door = "anthropic";
  const { plan } = toChatPlan(req);
  return Response.json({ input_tokens: estimateInputTokens(plan.body) });
}
