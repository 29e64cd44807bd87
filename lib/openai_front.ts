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
import type { RequestContext } from "./access_log.ts";
import { tagged, untagged } from "./catalogue.ts";
import { ProxyError } from "./errors.ts";
import { postWithFallbacks } from "./fallback.ts";
import { trimHistory } from "./history.ts";
import type { AppDeps } from "./server.ts";
import { OpenAISseStream } from "./sse_relay.ts";

/** OpenAI's error type for a status, as Ollama's OpenAI layer assigns it. */
export function openAIErrorType(status: number): string {
  if (status === 400) return "invalid_request_error";
  if (status === 404) return "not_found_error";
  return "api_error";
}

/** An error response in OpenAI's shape. */
export function openAIErrorResponse(
  status: number,
  message: string,
  headers: HeadersInit = {},
): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  const error = { message, type: openAIErrorType(status), param: null, code: null };
  return new Response(JSON.stringify({ error }), { status, headers: h });
}

async function readBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ProxyError(400, `invalid JSON in request body: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ProxyError(400, "request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function requireModel(body: Record<string, unknown>): string {
  const model = body.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw new ProxyError(400, "you must provide a model parameter");
  }
  return model.trim();
}

function applyChatPolicy(body: Record<string, unknown>, deps: AppDeps): void {
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

function applyDefaults(body: Record<string, unknown>, deps: AppDeps): void {
  for (const [key, value] of Object.entries(deps.config.defaults)) {
    if (value !== null && value !== undefined && !(key in body)) body[key] = structuredClone(value);
  }
}

/** `POST /v1/chat/completions` and `POST /v1/completions`. */
export async function handleOpenAICompletion(
  path: "/chat/completions" | "/completions",
  request: Request,
  deps: AppDeps,
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

/** `POST /v1/embeddings`: forwarded to the embeddings upstream. */
export async function handleOpenAIEmbeddings(request: Request, deps: AppDeps): Promise<Response> {
  const body = await readBody(request);
  const model = requireModel(body);
  const input = body.input;
  const valid = typeof input === "string" ||
    (Array.isArray(input) && input.length > 0 &&
      (input.every((i) => typeof i === "string") || input.every((i) => Number.isInteger(i)) ||
        input.every((i) => Array.isArray(i) && i.every((n) => Number.isInteger(n)))));
  if (!valid) throw new ProxyError(400, "invalid input");
  const format = body.encoding_format;
  if (format !== undefined && format !== "float" && format !== "base64") {
    throw new ProxyError(
      400,
      `Invalid value for 'encoding_format' = ${format}. Supported values: ['float', 'base64'].`,
    );
  }
  body.model = (await deps.catalogue.resolve(model))?.upstreamId ?? untagged(model);
  const res = await deps.embedUpstream.post("/embeddings", body, request.signal);
  return relay(res, false, {}, () => {});
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

function modelObject(name: string, created: number): Record<string, unknown> {
  const slash = name.indexOf("/");
  return {
    id: name,
    object: "model",
    created,
    owned_by: slash > 0 ? name.slice(0, slash) : "library",
  };
}

/** `GET /v1/models`: the same list and order as `/api/tags`. */
export async function handleOpenAIModels(_request: Request, deps: AppDeps): Promise<Response> {
  const models = await deps.catalogue.list();
  const data = models.map((m) => modelObject(m.name, Math.floor(Date.parse(m.modifiedAt) / 1000)));
  return Response.json({ object: "list", data });
}

/** `GET /v1/models/{id}` (the id may contain `/`). */
export async function handleOpenAIModel(id: string, deps: AppDeps): Promise<Response> {
  const resolved = await deps.catalogue.resolve(id);
  if (!resolved?.facts) throw new ProxyError(404, `model '${id}' not found`);
  const created = Math.floor(Date.parse(resolved.facts.modifiedAt) / 1000);
  return Response.json({ ...modelObject(id.includes(":") ? id : tagged(id), created), id });
}
