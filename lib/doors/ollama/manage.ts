/**
 * Model management, answered honestly for a proxy whose models live on Chutes.ai. Pull checks that
 * the model is available (listed, a pool, or an embedding model the embeddings host accepts),
 * downloads nothing, and for a listed Chutes model asks Chutes to warm it up: the progress lines
 * say `warming …` until the chute is hot, then `success`, or end with an error line (the
 * warm-up refused, or still cold at `warmup_timeout_seconds`). Copy and delete manage local aliases
 * through the catalogue, which persists them. Deleting a Chutes model or a configured alias,
 * create, push and blobs answer a JSON error saying what the proxy cannot do.
 */
import { isPool, type Resolved, untagged } from "../../models/catalogue.ts";
import { pullWithWarmup } from "./warmup.ts";
import { jsonResponse, ProxyError } from "../../base/errors.ts";
import { invalidField, optionalString, parseJsonObject } from "./types.ts";
import type { CoreDeps } from "../../core/deps.ts";

type Body = Record<string, unknown>;

/** Go's `%q` for the names we quote (JSON's quoting agrees with it for printable text). */
const q = (s: string) => JSON.stringify(s);

/** An Ollama-style model name: `[namespace/]name[:tag]`. */
const VALID_NAME = /^[A-Za-z0-9_][A-Za-z0-9._\-/]*(:[A-Za-z0-9_][A-Za-z0-9._\-]*)?$/;

/** `model`, or the legacy `name`, trimmed; `""` when neither is given. */
function requestedModel(body: Body): string {
  return (optionalString(body, "model") ?? optionalString(body, "name") ?? "").trim();
}

function requireModel(body: Body): string {
  const model = requestedModel(body);
  if (model === "") throw new ProxyError(400, "model is required");
  return model;
}

async function readBody(request: Request): Promise<Body> {
  return parseJsonObject(await request.text());
}

const notAvailable = (name: string) =>
  new ProxyError(404, `pull model manifest: model ${q(name)} is not available on Chutes.ai`);

/**
 * Checks that `name` can be used and returns the id it runs as upstream. Chutes does not list
 * embedding models, so an unlisted name is tried on the embeddings host with a one-word input.
 */
async function checkAvailable(
  name: string,
  signal: AbortSignal,
  deps: CoreDeps,
): Promise<Resolved> {
  const resolved = await deps.catalogue.resolve(name);
  if (resolved && (resolved.facts || isPool(name))) return resolved;
  if (!deps.catalogue.live) {
    throw new ProxyError(
      503,
      `cannot check whether ${q(name)} is available: the Chutes.ai model list could not be ` +
        "fetched; try again later",
    );
  }
  const upstreamId = untagged(name);
  try {
    const res = await deps.embedUpstream.post(
      "/embeddings",
      { model: upstreamId, input: ["ping"] },
      signal,
    );
    await res.body?.cancel();
  } catch (err) {
    // Auth, quota and rate-limit answers say nothing about the model; keep them as they are.
    const status = err instanceof ProxyError ? err.status : 0;
    if (status >= 400 && status < 500 && ![401, 402, 403, 429].includes(status)) {
      throw notAvailable(name);
    }
    throw err;
  }
  return { upstreamId };
}

function progressStream(lines: Record<string, unknown>[]): Response {
  const text = lines.map((line) => `${JSON.stringify(line)}\n`).join("");
  return new Response(text, { headers: { "content-type": "application/x-ndjson" } });
}

/** `POST /api/pull`: nothing is downloaded; the answer says whether the model is available. */
export async function handlePull(request: Request, deps: CoreDeps): Promise<Response> {
  const body = await readBody(request);
  const name = requireModel(body);
  const stream = body.stream ?? true;
  if (typeof stream !== "boolean") throw invalidField("stream", "true or false", stream);
  const resolved = await checkAvailable(name, request.signal, deps);
  const { upstreamId } = resolved;
  // Only a listed model of the primary upstream is a chute Chutes can warm up.
  if (resolved.facts?.upstreamIndex === 0 && deps.warmth.enabled) {
    return await pullWithWarmup(upstreamId, stream, request.signal, deps);
  }
  if (!stream) return jsonResponse({ status: "success" });
  return progressStream([
    { status: "pulling manifest" },
    { status: `${upstreamId} runs on Chutes.ai; nothing to download` },
    { status: "success" },
  ]);
}

/** `POST /api/copy`: makes `destination` a local alias of what `source` names. */
export async function handleCopy(request: Request, deps: CoreDeps): Promise<Response> {
  const body = await readBody(request);
  const source = (optionalString(body, "source") ?? "").trim();
  const destination = (optionalString(body, "destination") ?? "").trim();
  if (source === "") throw new ProxyError(400, "source is required");
  if (destination === "") throw new ProxyError(400, "destination is required");
  if (!VALID_NAME.test(destination) || isPool(destination) || destination.length > 350) {
    throw new ProxyError(400, `destination ${q(destination)} is invalid`);
  }
  const resolved = await deps.catalogue.resolve(source);
  if (!resolved) throw new ProxyError(404, `model ${q(source)} not found`);
  const kind = deps.catalogue.aliasKind(destination);
  if (kind === "config") {
    throw new ProxyError(
      400,
      `destination ${q(destination)} is an alias set in the configuration ("aliases"); ` +
        "change it there",
    );
  }
  if (kind === undefined && (await deps.catalogue.resolve(destination))?.facts) {
    throw new ProxyError(
      400,
      `destination ${q(destination)} is a Chutes.ai model; choose another name for the alias`,
    );
  }
  await deps.catalogue.addAlias(destination, resolved.upstreamId);
  return new Response(null, { status: 200 });
}

/** `DELETE /api/delete`: removes a local alias; Chutes models and configured aliases stay. */
export async function handleDelete(request: Request, deps: CoreDeps): Promise<Response> {
  const name = requireModel(await readBody(request));
  const kind = deps.catalogue.aliasKind(name);
  if (kind === "local") {
    await deps.catalogue.removeAlias(name);
    return new Response(null, { status: 200 });
  }
  if (kind === "config") {
    throw new ProxyError(
      400,
      `cannot delete model '${name}': it is an alias set in the configuration ("aliases"), ` +
        "which the proxy does not rewrite; remove it there and restart",
    );
  }
  if (!(await deps.catalogue.resolve(name))) throw new ProxyError(404, `model '${name}' not found`);
  throw new ProxyError(
    400,
    `cannot delete model '${name}': it is served by Chutes.ai and this proxy cannot delete it ` +
      "(only aliases made with copy can be deleted)",
  );
}

/** `POST /api/create`: the proxy has no local models to build. */
export async function handleCreate(request: Request, _deps: CoreDeps): Promise<Response> {
  const name = requireModel(await readBody(request));
  throw new ProxyError(
    400,
    `cannot create ${q(name)}: this proxy serves models from Chutes.ai and cannot build or ` +
      "import models; to give a model another name, use copy (ollama cp)",
  );
}

/** `POST /api/push`: there is no registry behind the proxy. */
export async function handlePush(request: Request, _deps: CoreDeps): Promise<Response> {
  const name = requireModel(await readBody(request));
  throw new ProxyError(
    400,
    `cannot push ${q(name)}: this proxy serves models from Chutes.ai and cannot upload models`,
  );
}

/** `HEAD`/`POST /api/blobs/:digest`: the proxy stores no model files. */
export function handleBlob(digest: string, request: Request): never {
  void request.body?.cancel();
  throw new ProxyError(
    400,
    `cannot store or look up blob ${q(digest)}: this proxy keeps no model files ` +
      "(models are served by Chutes.ai)",
  );
}
