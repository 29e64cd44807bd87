/**
 * The route table and the app value: `createHandler(deps)` returns the fetch handler that
 * `Deno.serve` runs and tests call directly. Each request passes the CORS policy and the access
 * keys, then its route. Every error leaves through `errorFor`: JSON `{"error": "..."}` (OpenAI's
 * shape under `/v1/`) with the right status, on unknown routes (404) and wrong methods (405)
 * too, because clients JSON-parse error bodies.
 */
import type { KeyCheck } from "./auth.ts";
import { type Catalogue, tagged, untagged } from "./catalogue.ts";
import { handleCompletion } from "./completion.ts";
import type { Config } from "./config.ts";
import type { CorsPolicy } from "./cors.ts";
import { handleEmbed, handleEmbeddings } from "./embed.ts";
import { errorResponse, jsonResponse, ProxyError, toProxyError } from "./errors.ts";
import { RequestContext } from "./access_log.ts";
import { limitBody } from "./limits.ts";
import { statusData } from "./status.ts";
import { STATUS_PAGE_HTML } from "./status_page.ts";
import type { Metrics } from "./metrics.ts";
import type { Logger } from "./log.ts";
import {
  handleBlob,
  handleCopy,
  handleCreate,
  handleDelete,
  handlePull,
  handlePush,
} from "./manage.ts";
import { modelFacts, showBody, tagsEntry } from "./model_views.ts";
import { optionalString, parseJsonObject } from "./ollama_types.ts";
import {
  handleOpenAICompletion,
  handleOpenAIEmbeddings,
  handleOpenAIModel,
  handleOpenAIModels,
  openAIErrorResponse,
} from "./openai_front.ts";
import type { RunningModels } from "./running.ts";
import type { Clock } from "./stream.ts";
import type { Upstream } from "./upstream.ts";

/** Everything the app needs; built by `main.ts` or by tests. */
export interface AppDeps {
  config: Config;
  upstream: Upstream;
  /** Every chat upstream, the primary first (index = `ModelFacts.upstreamIndex`). */
  upstreams: readonly Upstream[];
  /** The upstream for embeddings (Chutes serves them from another host). */
  embedUpstream: Upstream;
  catalogue: Catalogue;
  cors: CorsPolicy;
  keys: KeyCheck;
  metrics: Metrics;
  running: RunningModels;
  clock: Clock;
  log: Logger;
}

type Handler = (
  request: Request,
  deps: AppDeps,
  ctx: RequestContext,
) => Promise<Response> | Response;

const TEXT_PLAIN = { "content-type": "text/plain; charset=utf-8" };

async function tags(_request: Request, deps: AppDeps): Promise<Response> {
  const models = await deps.catalogue.list();
  return jsonResponse({ models: models.map(tagsEntry) });
}

async function show(request: Request, deps: AppDeps): Promise<Response> {
  const body = parseJsonObject(await request.text());
  const name = (optionalString(body, "model") ?? optionalString(body, "name") ?? "").trim();
  if (name === "") throw new ProxyError(400, "model is required");
  const resolved = await deps.catalogue.resolve(name);
  if (!resolved) throw new ProxyError(404, `model '${tagged(name)}' not found`);
  const facts = resolved.facts ?? modelFacts(tagged(name), resolved.upstreamId, undefined, "", "");
  const copilot = request.headers.get("user-agent")?.startsWith("GitHubCopilotChat/") ?? false;
  const basename = copilot ? name : untagged(facts.upstreamId).split("/").pop()!;
  const stops = (deps.config.defaults.stop as string[] | null) ?? [];
  return jsonResponse(showBody(facts, basename, stops));
}

/** Ready when the upstream catalogue answered recently (within two cache lifetimes, at least 10 minutes). */
function readyz(_request: Request, deps: AppDeps): Response {
  const age = Date.now() - deps.catalogue.lastSuccessAt;
  const window = Math.max(2 * deps.config.catalogue_ttl_seconds, 600) * 1000;
  if (age <= window) {
    return jsonResponse({ status: "ready", catalogue_age_seconds: Math.round(age / 1000) });
  }
  const reason = deps.catalogue.lastSuccessAt === 0
    ? "the upstream model list has not been fetched yet"
    : `the upstream model list was last fetched ${Math.round(age / 1000)} s ago`;
  return jsonResponse({ status: "not ready", reason }, 503);
}

/** Routes: path → method → handler. HEAD is answered wherever GET is. */
const ROUTES: Record<string, Record<string, Handler>> = {
  "/": { GET: () => new Response("Ollama is running", { headers: TEXT_PLAIN }) },
  "/api/version": { GET: (_r, d) => jsonResponse({ version: d.config.ollama_version }) },
  "/api/tags": { GET: tags },
  "/api/show": { POST: show },
  "/api/ps": { GET: (_r, d) => jsonResponse(d.running.body()) },
  "/api/chat": { POST: (r, d, c) => handleCompletion("chat", r, d, c) },
  "/api/generate": { POST: (r, d, c) => handleCompletion("generate", r, d, c) },
  "/api/embed": { POST: handleEmbed },
  "/api/embeddings": { POST: handleEmbeddings },
  "/api/pull": { POST: handlePull },
  "/api/push": { POST: handlePush },
  "/api/create": { POST: handleCreate },
  "/api/copy": { POST: handleCopy },
  "/api/delete": { DELETE: handleDelete },
  "/v1/chat/completions": {
    POST: (r, d, c) => handleOpenAICompletion("/chat/completions", r, d, c),
  },
  "/v1/completions": { POST: (r, d, c) => handleOpenAICompletion("/completions", r, d, c) },
  "/v1/embeddings": { POST: handleOpenAIEmbeddings },
  "/v1/models": { GET: handleOpenAIModels },
  "/healthz": { GET: () => jsonResponse({ status: "ok" }) },
  "/ui": {
    GET: () =>
      new Response(STATUS_PAGE_HTML, { headers: { "content-type": "text/html; charset=utf-8" } }),
  },
  "/ui/data": { GET: async (_r, d) => jsonResponse(await statusData(d)) },
  "/readyz": { GET: readyz },
  "/metrics": {
    GET: (_r, d) =>
      new Response(d.metrics.prometheus(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      }),
  },
};

const MODEL_PATH = "/v1/models/";

/** The metrics label of a path: the route it matched, so unknown paths cannot grow the label set. */
function routeLabel(path: string): string {
  if (ROUTES[path]) return path;
  if (path.startsWith(MODEL_PATH)) return "/v1/models/{id}";
  if (path.startsWith("/api/blobs/")) return "/api/blobs/{digest}";
  return "other";
}
const BLOB_PATH = "/api/blobs/";

function route(method: string, path: string): Handler | ProxyError {
  if (path.startsWith(MODEL_PATH) && path.length > MODEL_PATH.length) {
    let id: string;
    try {
      id = decodeURIComponent(path.slice(MODEL_PATH.length));
    } catch {
      return new ProxyError(400, `invalid model id in path: ${path.slice(MODEL_PATH.length)}`);
    }
    return method === "GET"
      ? (_r, d) => handleOpenAIModel(id, d)
      : new ProxyError(405, `405 method not allowed: ${method} ${path}`);
  }
  if (path.startsWith(BLOB_PATH) && path.length > BLOB_PATH.length) {
    const digest = path.slice(BLOB_PATH.length);
    return method === "HEAD" || method === "POST"
      ? (r) => handleBlob(digest, r)
      : new ProxyError(405, `405 method not allowed: ${method} ${path}`);
  }
  const methods = ROUTES[path];
  if (!methods) return new ProxyError(404, `404 page not found: ${path}`);
  return methods[method === "HEAD" ? "GET" : method] ??
    new ProxyError(405, `405 method not allowed: ${method} ${path}`);
}

/** The error shape of the route: OpenAI's under `/v1/`, Ollama's elsewhere. */
function errorFor(path: string, err: unknown, log: Logger): Response {
  const proxyError = toProxyError(err);
  if (!(err instanceof ProxyError)) log.error(`internal error: ${(err as Error)?.stack ?? err}`);
  return path.startsWith("/v1/")
    ? openAIErrorResponse(proxyError.status, proxyError.message)
    : errorResponse(proxyError.status, proxyError.message);
}

async function dispatch(
  request: Request,
  path: string,
  deps: AppDeps,
  ctx: RequestContext,
): Promise<Response> {
  if (!(await deps.keys.permits(request, path))) {
    throw new ProxyError(
      401,
      "unauthorized: this proxy requires an API key (Authorization: Bearer <key>)",
    );
  }
  if (request.method === "OPTIONS") {
    return new Response(null, { status: 204, headers: { allow: "GET,POST,DELETE,HEAD,OPTIONS" } });
  }
  const handler = route(request.method, path);
  if (handler instanceof ProxyError) throw handler;
  return await handler(limitBody(request, deps.config.max_body_bytes), deps, ctx);
}

function withHeaders(response: Response, extra: Headers, head: boolean): Response {
  const headers = new Headers(response.headers);
  extra.forEach((value, key) => headers.set(key, value));
  if (head) void response.body?.cancel();
  return new Response(head ? null : response.body, { status: response.status, headers });
}

/** Creates the app's fetch handler. */
export function createHandler(deps: AppDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const started = deps.clock.now();
    const path = new URL(request.url).pathname.replace(/\/+$/, "") || "/";
    const cors = deps.cors.check(request);
    if (cors.kind === "forbidden") return new Response(null, { status: 403 });
    if (cors.kind === "preflight") {
      return new Response(null, { status: 204, headers: cors.headers });
    }
    const now = () => deps.clock.now();
    const ctx = new RequestContext(
      request.method,
      path,
      started,
      now,
      deps.log,
      deps.metrics,
      routeLabel(path),
    );
    let response: Response;
    try {
      response = await dispatch(request, path, deps, ctx);
    } catch (err) {
      response = errorFor(path, err, deps.log);
    }
    if (!ctx.streaming || !response.body) ctx.end(response.status);
    const extra = cors.kind === "allowed" ? cors.headers : new Headers();
    extra.set("x-request-id", ctx.id);
    return withHeaders(response, extra, request.method === "HEAD");
  };
}
