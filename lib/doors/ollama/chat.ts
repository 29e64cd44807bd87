/**
 * `/api/chat` and `/api/generate`: parse, resolve the model, answer load/unload requests
 * locally, check capabilities in Ollama's words, translate, and hand the plan to the chat core,
 * which streams NDJSON through the Ollama encoder or gathers one JSON object. Upstream failures
 * before the first byte keep their status; after it the answer ends with an error line.
 */
import type { Clock } from "../../base/clock.ts";
import { jsonResponse, ProxyError } from "../../base/errors.ts";
import {
  collectAnswer,
  collectedResponse,
  openChat,
  resolveModel,
  streamAnswer,
} from "../../core/chat.ts";
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";
import type { Resolved } from "../../models/catalogue.ts";
import { type OllamaAnswerOptions, OllamaCollector, ollamaEncoder } from "./encode.ts";
import { parseChatRequest, parseGenerateRequest } from "./parse.ts";
import { toOpenAIChatRequest, toOpenAIGenerateRequest } from "./to_upstream.ts";
import type { ChatRequest, CommonRequest, GenerateRequest } from "./types.ts";
import { parseJsonObject } from "./types.ts";

type Kind = "chat" | "generate";

async function resolveRequested(
  kind: Kind,
  req: CommonRequest,
  deps: CoreDeps,
): Promise<Resolved> {
  if (req.model === "" && deps.config.default_model) req.model = deps.config.default_model;
  if (req.model === "") {
    throw kind === "chat"
      ? new ProxyError(400, "model is required")
      : new ProxyError(404, "model '' not found");
  }
  return await resolveModel(req.model, deps);
}

function loadReply(kind: Kind, req: CommonRequest, clock: Clock): Response {
  const head = kind === "chat"
    ? { model: req.model, created_at: clock.iso(), message: { role: "assistant", content: "" } }
    : { model: req.model, created_at: clock.iso(), response: "" };
  return jsonResponse({
    ...head,
    done: true,
    done_reason: req.keep_alive === 0 ? "unload" : "load",
  });
}

function checkCapabilities(
  kind: Kind,
  req: ChatRequest | GenerateRequest,
  resolved: Resolved,
): void {
  const facts = resolved.facts;
  if (!facts?.featuresKnown) return;
  const has = (c: string) => facts.capabilities.includes(c);
  if (!has("completion")) throw new ProxyError(400, `"${req.model}" does not support ${kind}`);
  if (req.think !== undefined && req.think !== false && !has("thinking")) {
    throw new ProxyError(400, `"${req.model}" does not support thinking`);
  }
  if (kind === "chat" && (req as ChatRequest).tools && !has("tools")) {
    throw new ProxyError(400, `${req.model} does not support tools`);
  }
  if (kind === "generate" && (req as GenerateRequest).suffix) {
    throw new ProxyError(400, `${req.model} does not support insert`);
  }
}

/** Handles `/api/chat` or `/api/generate`. */
export async function handleCompletion(
  kind: Kind,
  request: Request,
  deps: CoreDeps,
  ctx: RequestContext,
): Promise<Response> {
  const body = parseJsonObject(await request.text());
  const req = kind === "chat" ? parseChatRequest(body) : parseGenerateRequest(body);
  ctx.door = "ollama";
  const resolved = await resolveRequested(kind, req, deps);
  const empty = "messages" in req ? req.messages.length === 0 : req.prompt === "" && !req.images;
  if (empty) {
    if (resolved.facts) deps.running.touch(resolved.facts, req.keep_alive);
    // A load request: ask Chutes to warm the chute up, without waiting for it.
    if (req.keep_alive !== 0 && resolved.facts?.upstreamIndex === 0) {
      deps.warmth.warmInBackground(resolved.upstreamId);
    }
    return loadReply(kind, req, deps.clock);
  }
  checkCapabilities(kind, req, resolved);
  const policy = { defaults: deps.config.defaults };
  const upstreamReq = "messages" in req
    ? toOpenAIChatRequest(req, resolved.upstreamId, policy)
    : toOpenAIGenerateRequest(req, resolved.upstreamId, policy);
  const answer = await openChat(
    {
      door: "ollama",
      model: req.model,
      path: upstreamReq.path,
      body: upstreamReq.body,
      ignored: upstreamReq.ignored,
      needs: {},
      resolved,
      ...(req.keep_alive !== undefined ? { keepAlive: req.keep_alive } : {}),
      maxTokensField: "num_predict",
      defaultsApplied: true,
    },
    deps,
    ctx,
    request.signal,
  );
  const options: OllamaAnswerOptions = {
    kind,
    model: answer.model,
    clock: deps.clock,
    startedAt: ctx.startedAt,
    raw: "raw" in req && req.raw,
  };
  if (req.stream) {
    return streamAnswer(answer, ollamaEncoder(options), { contentType: "application/x-ndjson" });
  }
  const collector = new OllamaCollector(options);
  await collectAnswer(answer, collector);
  return collectedResponse(answer, collector.result());
}
