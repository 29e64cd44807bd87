/**
 * The one chat path under every door. A door parses its request, translates it into an upstream
 * chat-completions body (`ChatPlan`), and hands it here: `openChat` resolves the model (aliases,
 * pools), checks its capabilities, applies the policy (default system prompt, history limit,
 * context guard), clamps `max_tokens` to the model's output limit, and posts with retries and
 * fallbacks — every failure before the first byte is a `ProxyError` the router answers in the
 * door's shape. The answer is then either streamed through the door's encoder
 * (`streamAnswer`: one frame per write, keep-alive pings while the first token is pending, the
 * error frame after a failure) or gathered by the door's collector (`collectAnswer`).
 * The request's facts (door, model, tokens, timing, failure) reach the access log, metrics and
 * the status page through the request context.
 */
import { jsonResponse, ProxyError } from "../base/errors.ts";
import { noteHeader } from "../base/headers.ts";
import { redact } from "../base/log.ts";
import type { Resolved } from "../models/catalogue.ts";
import { AnswerStream, type EndNote, readWholeAnswer, type UpstreamReading } from "./answer.ts";
import type { RequestContext } from "./context.ts";
import type { CoreDeps } from "./deps.ts";
import type { AnswerEncoder, AnswerEvents } from "./events.ts";
import { postWithFallbacks } from "./fallback.ts";
import type { InterpretOptions } from "./interpret.ts";
import {
  answerReserve,
  applyDefaultSystemPrompt,
  guardContext,
  outputLimit,
  type PolicyMessage,
  promptEstimate,
  trimHistory,
} from "./policy.ts";

/** The client protocols, as they are labelled in logs, metrics and the status page. */
export type DoorName = "ollama" | "openai" | "anthropic" | "responses";

/** What a door asks the core to run. */
export interface ChatPlan {
  door: DoorName;
  /** The model name exactly as the client sent it (echoed back unless a fallback answered). */
  model: string;
  path: "/chat/completions" | "/completions";
  /**
   * The upstream body without `model`, `stream` and `stream_options` (the core sets them):
   * OpenAI chat `messages` (an assistant turn's reasoning in `reasoning_content`, never a content
   * part), `tools`, `tool_choice`, sampling fields, `max_tokens`, `response_format`,
   * `chat_template_kwargs`/`reasoning_effort` for thinking. For `/completions`, `prompt`.
   */
  body: Record<string, unknown>;
  /** Client fields that were not forwarded, with why; logged and sent as `X-Proxy-Ignored-Options`. */
  ignored: string[];
  /** Capabilities the request needs; a model known to lack one is a 400. */
  needs: { tools?: boolean; thinking?: boolean; vision?: boolean };
  /** Thinking asked of a model without it is dropped silently instead of a 400 (Anthropic door). */
  relaxThinking?: boolean;
  /** The door already resolved the model and checked it in its own words (Ollama). */
  resolved?: Resolved;
  /** Ollama's `keep_alive` in seconds, for `/api/ps`. */
  keepAlive?: number;
  /** What the client calls the output limit, for the clamp note (default `max_tokens`). */
  maxTokensField?: string;
  /**
   * The door merged the server's generation `defaults` itself (Ollama, where an option sent as
   * `null` removes its default); otherwise the core fills the fields the body leaves out.
   */
  defaultsApplied?: boolean;
}

/** An upstream answer whose body has not been read yet. */
export interface ChatAnswer {
  /** The model name to echo: the requested one, or the listed name of the fallback that answered. */
  readonly model: string;
  /** Headers to add to the door's response (`X-Proxy-Fallback`, `X-Proxy-Ignored-Options`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The prompt-token estimate used when the upstream reports no usage. */
  readonly promptEstimate: number;
  readonly body: ReadableStream<Uint8Array>;
  readonly ctx: RequestContext;
  readonly interpret: InterpretOptions;
  /** The client's request signal: aborted when the client left. */
  readonly signal: AbortSignal;
}

/** Resolves a client's model name; unknown names are a 404. */
export async function resolveModel(name: string, deps: CoreDeps): Promise<Resolved> {
  const resolved = await deps.catalogue.resolve(name);
  if (!resolved) throw new ProxyError(404, `model '${name}' not found`);
  return resolved;
}

/** Checks what the plan needs against what the model is known to do; may drop thinking. */
function checkCapabilities(plan: ChatPlan, resolved: Resolved): void {
  const facts = resolved.facts;
  if (!facts?.featuresKnown) return;
  const has = (c: string) => facts.capabilities.includes(c);
  const lacks = (what: string) => new ProxyError(400, `"${plan.model}" does not support ${what}`);
  if (!has("completion")) throw lacks("chat");
  if (plan.needs.tools && !has("tools")) throw lacks("tools");
  if (plan.needs.vision && !has("vision")) throw lacks("images");
  if (!plan.needs.thinking || has("thinking")) return;
  if (!plan.relaxThinking) throw lacks("thinking");
  // As Ollama relaxes it for Anthropic clients: the model answers without thinking.
  delete plan.body.reasoning_effort;
  delete plan.body.chat_template_kwargs;
}

/**
 * Applies the defaults, the conversation policy and the output clamp to the body, in place;
 * answers the prompt's token estimate (of what is sent, after the policy).
 */
function applyPolicy(plan: ChatPlan, resolved: Resolved, deps: CoreDeps): number {
  const body = plan.body;
  const config = deps.config;
  if (!plan.defaultsApplied) {
    for (const [key, value] of Object.entries(config.defaults)) {
      if (value !== null && value !== undefined && !(key in body)) {
        body[key] = structuredClone(value);
      }
    }
  }
  if (plan.path === "/chat/completions" && Array.isArray(body.messages)) {
    const messages = body.messages as PolicyMessage[];
    const context = resolved.facts?.contextLength;
    body.messages = guardContext(
      trimHistory(
        applyDefaultSystemPrompt(messages, config.default_system_prompt),
        config.max_history_messages,
      ),
      context,
      config.context_guard,
      context ? answerReserve(context, body.max_tokens) : 0,
    );
  }
  const estimate = promptEstimate(body);
  const limit = outputLimit(resolved, estimate);
  const asked = body.max_tokens;
  if (limit !== undefined && typeof asked === "number" && asked > limit) {
    body.max_tokens = limit;
    plan.ignored.push(
      `${
        plan.maxTokensField ?? "max_tokens"
      } above the model's limit (${asked} clamped to ${limit})`,
    );
  }
  return estimate;
}

/**
 * A 200 that is not an event stream (an HTML error page from a proxy in the way, a JSON object)
 * is a failure before the first byte: 502 with what the upstream sent, redacted.
 */
async function refuseNonStream(res: Response, deps: CoreDeps): Promise<void> {
  const type = res.headers.get("content-type");
  if (type === null || /event-stream/i.test(type)) return;
  let head = "";
  try {
    const reader = res.body?.getReader();
    const first = reader ? await reader.read() : undefined;
    head = first?.value ? new TextDecoder().decode(first.value.subarray(0, 2048)) : "";
    void reader?.cancel();
  } catch {
    // the body is unreadable too; the type says enough
  }
  const shown = redact(head, deps.secrets).trim().slice(0, 300);
  throw new ProxyError(
    502,
    `the upstream answered ${type} instead of an event stream${shown ? `: ${shown}` : ""}`,
  );
}

/** Resolves, checks, applies the policy and posts; throws `ProxyError` before the first byte. */
export async function openChat(
  plan: ChatPlan,
  deps: CoreDeps,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<ChatAnswer> {
  ctx.door = plan.door;
  // Counted under its name only once it resolved: an unknown name is the client's text.
  const resolved = plan.resolved ?? await resolveModel(plan.model, deps);
  ctx.model = plan.model;
  if (!plan.resolved) checkCapabilities(plan, resolved);
  if (resolved.facts) deps.running.touch(resolved.facts, plan.keepAlive);
  const estimate = applyPolicy(plan, resolved, deps);
  const body = plan.body;
  delete body.model;
  body.stream = true;
  body.stream_options = { include_usage: true };
  if (plan.ignored.length > 0) {
    deps.log.debug(`${plan.door} ${plan.model}: not forwarded: ${plan.ignored.join(", ")}`);
  }
  const answered = await postWithFallbacks(
    plan.path,
    body,
    resolved,
    plan.model,
    signal,
    deps,
    ctx.trace,
  );
  ctx.model = answered.name;
  await refuseNonStream(answered.response, deps);
  const headers: Record<string, string> = {};
  if (answered.fallback) {
    headers["x-proxy-fallback"] = `${resolved.upstreamId} -> ${answered.model.upstreamId}`;
  }
  if (plan.ignored.length > 0) headers["x-proxy-ignored-options"] = noteHeader(plan.ignored);
  return {
    model: answered.name,
    headers,
    promptEstimate: estimate,
    body: answered.response.body ?? new Response("").body!,
    ctx,
    signal,
    interpret: {
      clock: deps.clock,
      headersAt: deps.clock.now(),
      promptEstimate: estimate,
      redact: (text) => redact(text, deps.secrets),
    },
  };
}

/** Options of a streamed answer. */
export interface StreamOptions {
  contentType: string;
  /** Keep-alive interval before the first token, in milliseconds (the encoder's `ping`). */
  pingMs?: number;
}

/** Copies what the answer told into the request context (access log, metrics, status page). */
function record(ctx: RequestContext, reading: UpstreamReading): void {
  const interpreter = reading.interpreter;
  ctx.firstTokenAt = interpreter.firstTokenAt;
  const summary = interpreter.summary;
  if (summary) {
    ctx.promptTokens = summary.promptTokens;
    ctx.completionTokens = summary.completionTokens;
  } else if (interpreter.firstTokenAt !== undefined) {
    // Cut short after tokens came (a failure, the client leaving): billed as far as it went.
    const so = interpreter.tokensSoFar;
    ctx.promptTokens = so.prompt;
    ctx.completionTokens = so.completion;
  }
}

/**
 * The door's streamed response: upstream events → the encoder `makeEncoder` builds around the
 * `write` it is given (one frame per call, one frame per network write).
 */
export function streamAnswer(
  answer: ChatAnswer,
  makeEncoder: (write: (frame: string) => void) => AnswerEncoder,
  options: StreamOptions,
): Response {
  const ctx = answer.ctx;
  ctx.startStream();
  const body = new AnswerStream(answer.body, {
    interpret: answer.interpret,
    makeEncoder,
    pingMs: options.pingMs,
    onEnd: (note: EndNote, reading) => {
      record(ctx, reading);
      ctx.end(200, note);
    },
  });
  const headers = new Headers(answer.headers);
  headers.set("content-type", options.contentType);
  if (options.contentType === "text/event-stream") headers.set("cache-control", "no-cache");
  return new Response(body, { headers });
}

/** The most upstream bytes gathered for an answer that is not streamed. */
export const MAX_COLLECT_BYTES = 64 * 1024 * 1024;

/** Reads the whole answer into `collector`; an upstream failure is thrown as a 502 `ProxyError`. */
export async function collectAnswer(answer: ChatAnswer, collector: AnswerEvents): Promise<void> {
  const reading = await readWholeAnswer(
    answer.body,
    answer.interpret,
    collector,
    MAX_COLLECT_BYTES,
  );
  record(answer.ctx, reading);
  // A client that gave up cut the upstream read: that is the client leaving, not Chutes failing.
  if (answer.signal.aborted) {
    throw new ProxyError(499, "the client left before the answer was complete");
  }
  const failure = reading.interpreter.failure;
  if (failure !== undefined) throw new ProxyError(502, failure);
}

/** A collected answer as JSON, with the answer's headers. */
export function collectedResponse(answer: ChatAnswer, value: unknown): Response {
  return jsonResponse(value, 200, answer.headers);
}
