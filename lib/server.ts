/**
 * The route table and the app value: `createHandler(deps)` returns the fetch handler that
 * `Deno.serve` runs and tests call directly. Every error leaves through `toErrorResponse`:
 * JSON `{"error": "..."}` with the right status, on unknown routes (404) and wrong methods (405)
 * too, because clients JSON-parse error bodies.
 */
import { type Catalogue, tagged, untagged } from "./catalogue.ts";
import { handleCompletion } from "./completion.ts";
import type { Config } from "./config.ts";
import { errorResponse, jsonResponse, ProxyError, toProxyError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { modelFacts, showBody, tagsEntry } from "./model_views.ts";
import { optionalString, parseJsonObject } from "./ollama_types.ts";
import type { RunningModels } from "./running.ts";
import type { Clock } from "./stream.ts";
import type { Upstream } from "./upstream.ts";

/** Everything the app needs; built by `main.ts` or by tests. */
export interface AppDeps {
  config: Config;
  upstream: Upstream;
  catalogue: Catalogue;
  running: RunningModels;
  clock: Clock;
  log: Logger;
}

type Handler = (request: Request, deps: AppDeps) => Promise<Response> | Response;

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

/** Routes: path → method → handler. HEAD is answered wherever GET is. */
const ROUTES: Record<string, Record<string, Handler>> = {
  "/": { GET: () => new Response("Ollama is running", { headers: TEXT_PLAIN }) },
  "/api/version": { GET: (_r, d) => jsonResponse({ version: d.config.ollama_version }) },
  "/api/tags": { GET: tags },
  "/api/show": { POST: show },
  "/api/ps": { GET: (_r, d) => jsonResponse(d.running.body()) },
  "/api/chat": { POST: (r, d) => handleCompletion("chat", r, d) },
  "/api/generate": { POST: (r, d) => handleCompletion("generate", r, d) },
};

function route(request: Request): Handler | Response {
  const path = new URL(request.url).pathname.replace(/\/+$/, "") || "/";
  const methods = ROUTES[path];
  if (!methods) return errorResponse(404, `404 page not found: ${path}`);
  const method = request.method === "HEAD" ? "GET" : request.method;
  return methods[method] ?? errorResponse(405, `405 method not allowed: ${request.method} ${path}`);
}

function toErrorResponse(err: unknown, log: Logger): Response {
  const proxyError = toProxyError(err);
  if (!(err instanceof ProxyError)) log.error(`internal error: ${(err as Error)?.stack ?? err}`);
  return errorResponse(proxyError.status, proxyError.message);
}

/** Creates the app's fetch handler. */
export function createHandler(deps: AppDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const started = deps.clock.now();
    const found = route(request);
    let response: Response;
    try {
      response = found instanceof Response ? found : await found(request, deps);
    } catch (err) {
      response = toErrorResponse(err, deps.log);
    }
    const path = new URL(request.url).pathname;
    deps.log.info(
      `${request.method} ${path} ${response.status} ${(deps.clock.now() - started).toFixed(1)}ms`,
    );
    if (request.method === "HEAD") {
      await response.body?.cancel();
      return new Response(null, { status: response.status, headers: response.headers });
    }
    return response;
  };
}
