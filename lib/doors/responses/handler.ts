/**
 * `POST /v1/responses`: read and check the body, expand `previous_response_id` from the store
 * (an unknown or expired id is a 400 naming it), translate to the core's plan, open the chat,
 * then stream the Responses events or gather the one response object — and keep the finished
 * conversation for a follow-up unless the client sent `store: false`.
 */
import { collectAnswer, collectedResponse, openChat, streamAnswer } from "../../core/chat.ts";
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { ProxyError } from "../../base/errors.ts";
import { ResponsesCollector } from "./collect.ts";
import { ResponsesEncoder } from "./encode.ts";
import { responsesErrorResponse } from "./errors.ts";
import { newId } from "./output.ts";
import { parseResponsesRequest, readJsonObject } from "./parse.ts";
import { epochSeconds, type ResponseFacts } from "./response.ts";
import { ownerOf, ResponseStore, toInputItems } from "./store.ts";
import { toChatPlan } from "./to_upstream.ts";
import type { OutputItem } from "./types.ts";

/** Keep-alive comments while the first token is pending (Codex's idle timeout is minutes). */
const PING_MS = 15_000;

/** One store per app: the router hands every handler the same deps object. */
const stores = new WeakMap<CoreDeps, ResponseStore>();

/** The `previous_response_id` store of the app that owns `deps`. */
export function storeOf(deps: CoreDeps): ResponseStore {
  let store = stores.get(deps);
  if (!store) stores.set(deps, store = new ResponseStore());
  return store;
}

/** `POST /v1/responses`. */
export async function handleResponses(
  request: Request,
  deps: CoreDeps,
  ctx: RequestContext,
): Promise<Response> {
  const parsed = parseResponsesRequest(await readJsonObject(request));
  const store = storeOf(deps);
  const owner = await ownerOf(request);
  if (parsed.previousResponseId !== undefined) {
    const earlier = store.get(parsed.previousResponseId, owner);
    if (!earlier) {
      return responsesErrorResponse(
        400,
        `previous_response_id: no response ${
          JSON.stringify(parsed.previousResponseId)
        } is kept here (unknown, expired after 30 minutes, or stored with store: false); resend the full conversation`,
        { param: "previous_response_id", code: "previous_response_not_found" },
      );
    }
    parsed.input = [...earlier, ...parsed.input];
  }
  if (parsed.input.length === 0) throw new ProxyError(400, "input: required, at least one item");
  const { plan, names } = toChatPlan(parsed);
  const answer = await openChat(plan, deps, ctx, request.signal);
  const nowSeconds = () => epochSeconds(deps.clock.iso());
  const facts: ResponseFacts = {
    id: newId("resp"),
    createdAt: nowSeconds(),
    model: answer.model,
    request: parsed,
    store: parsed.store,
  };
  const keep = (output: readonly OutputItem[]) => {
    if (parsed.store) store.put(facts.id, owner, [...parsed.input, ...toInputItems(output)]);
  };
  if (parsed.stream) {
    return streamAnswer(
      answer,
      (write) => new ResponsesEncoder(write, facts, names, { nowSeconds, onDone: keep }),
      { contentType: "text/event-stream", pingMs: PING_MS },
    );
  }
  const collector = new ResponsesCollector(facts, names, nowSeconds);
  await collectAnswer(answer, collector);
  if (!collector.response) {
    throw new ProxyError(502, collector.failure ?? "the upstream answer ended without finishing");
  }
  keep(collector.output);
  return collectedResponse(answer, collector.response);
}
