/**
 * `/api/chat` and `/api/generate`: parse, resolve the model, answer load/unload requests
 * locally, check capabilities as Ollama does, translate, call the upstream, then either stream
 * NDJSON or gather one JSON object. Upstream failures before the first byte keep their status;
 * after it the stream stage writes the final error line.
 */
import type { CoreDeps } from "../../core/deps.ts";
import type { Resolved } from "../../models/catalogue.ts";
import type { RequestContext } from "../../core/context.ts";
import { postWithFallbacks } from "../../core/fallback.ts";
import { jsonResponse, ProxyError } from "../../base/errors.ts";
import type { ChatRequest, CommonRequest, GenerateRequest } from "./types.ts";
import { parseJsonObject } from "./types.ts";
import { parseChatRequest, parseGenerateRequest } from "./parse.ts";
import { ollamaChunks, OllamaNdjsonStream } from "../../core/answer.ts";
import type { ConversionOptions, OllamaChunk } from "../../core/interpret.ts";
import {
  toOpenAIChatRequest,
  toOpenAIGenerateRequest,
  type UpstreamRequest,
} from "./to_upstream.ts";
import type { Clock } from "../../base/clock.ts";

type Kind = "chat" | "generate";

async function resolveModel(
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
  const resolved = await deps.catalogue.resolve(req.model);
  if (!resolved) throw new ProxyError(404, `model '${req.model}' not found`);
  return resolved;
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

/** Chutes rejects `max_tokens` above the model's `max_output_length`; ask for the most it allows. */
function clampMaxTokens(upstreamReq: UpstreamRequest, limit: number | undefined): void {
  const asked = upstreamReq.body.max_tokens;
  if (limit && typeof asked === "number" && asked > limit) {
    upstreamReq.body.max_tokens = limit;
    upstreamReq.ignored.push(`num_predict above the model's limit (${asked} clamped to ${limit})`);
  }
}

function estimatePromptTokens(req: ChatRequest | GenerateRequest): number {
  const chars = "messages" in req
    ? req.messages.reduce((n, m) => n + m.content.length + (m.thinking?.length ?? 0), 0)
    : req.prompt.length + (req.system?.length ?? 0);
  return Math.ceil(chars / 4);
}

/** Gathers a converted stream into Ollama's single non-streaming object. */
export async function collectResponse(
  kind: Kind,
  chunks: AsyncIterable<OllamaChunk>,
): Promise<OllamaChunk> {
  let content = "";
  let thinking = "";
  const toolCalls: unknown[] = [];
  const logprobs: unknown[] = [];
  for await (const chunk of chunks) {
    if (typeof chunk.error === "string") throw new ProxyError(502, chunk.error);
    const part = (kind === "chat" ? chunk.message : chunk) as Record<string, unknown>;
    content += (kind === "chat" ? part.content : part.response) as string;
    if (typeof part.thinking === "string") thinking += part.thinking;
    if (Array.isArray(part.tool_calls)) toolCalls.push(...part.tool_calls);
    if (Array.isArray(chunk.logprobs)) logprobs.push(...chunk.logprobs);
    if (chunk.done !== true) continue;
    const { model, created_at, message: _m, response: _r, ...tail } = chunk;
    const head: OllamaChunk = { model, created_at };
    if (kind === "chat") {
      const message: Record<string, unknown> = { role: "assistant", content };
      if (thinking) message.thinking = thinking;
      if (toolCalls.length > 0) message.tool_calls = toolCalls;
      head.message = message;
    } else {
      head.response = content;
      if (thinking) head.thinking = thinking;
    }
    return { ...head, ...tail, ...(logprobs.length > 0 ? { logprobs } : {}) };
  }
  throw new ProxyError(502, "upstream stream ended before the response was complete");
}

async function respond(
  kind: Kind,
  req: ChatRequest | GenerateRequest,
  resolved: Resolved,
  upstreamReq: UpstreamRequest,
  signal: AbortSignal,
  deps: CoreDeps,
  ctx: RequestContext,
): Promise<Response> {
  ctx.model = req.model;
  const answered = await postWithFallbacks(
    upstreamReq.path,
    upstreamReq.body,
    resolved,
    req.model,
    signal,
    deps,
    ctx.trace,
  );
  ctx.model = answered.name;
  const res = answered.response;
  const conversion: ConversionOptions = {
    kind,
    model: answered.name,
    clock: deps.clock,
    startedAt: ctx.startedAt,
    headersAt: deps.clock.now(),
    promptTokensEstimate: estimatePromptTokens(req),
    raw: "raw" in req && req.raw,
    onDone: (summary) => Object.assign(ctx, summary),
  };
  const headers: Record<string, string> = {};
  if (answered.fallback) {
    headers["x-proxy-fallback"] = `${resolved.upstreamId} -> ${answered.model.upstreamId}`;
  }
  if (upstreamReq.ignored.length > 0) {
    headers["x-proxy-ignored-options"] = upstreamReq.ignored.join(", ");
  }
  if (!req.stream) {
    const reply = await collectResponse(kind, ollamaChunks(res.body!, conversion));
    return jsonResponse(reply, 200, headers);
  }
  ctx.startStream();
  const body = new OllamaNdjsonStream(res.body!, conversion, (note) => ctx.end(200, note));
  return new Response(body, { headers: { ...headers, "content-type": "application/x-ndjson" } });
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
  const resolved = await resolveModel(kind, req, deps);
  const empty = "messages" in req ? req.messages.length === 0 : req.prompt === "" && !req.images;
  if (resolved.facts) deps.running.touch(resolved.facts, req.keep_alive);
  if (empty) {
    // A load request: ask Chutes to warm the chute up, without waiting for it.
    if (req.keep_alive !== 0 && resolved.facts?.upstreamIndex === 0) {
      deps.warmth.warmInBackground(resolved.upstreamId);
    }
    return loadReply(kind, req, deps.clock);
  }
  checkCapabilities(kind, req, resolved);
  const policy = { ...deps.config, contextLength: resolved.facts?.contextLength };
  const upstreamReq = "messages" in req
    ? toOpenAIChatRequest(req, resolved.upstreamId, policy)
    : toOpenAIGenerateRequest(req, resolved.upstreamId, policy);
  clampMaxTokens(upstreamReq, resolved.facts?.maxOutputTokens);
  if (upstreamReq.ignored.length > 0) {
    deps.log.debug(`${kind} ${req.model}: not forwarded: ${upstreamReq.ignored.join(", ")}`);
  }
  return await respond(kind, req, resolved, upstreamReq, request.signal, deps, ctx);
}
