/**
 * `/api/embed` and the legacy `/api/embeddings`, answered from Chutes' embeddings host
 * (`POST /embeddings` on `deps.embedUpstream`). Embedding models are not in Chutes' LLM list, so a
 * name the catalogue does not know is sent as it is (without `:latest`). `/api/embed` returns
 * L2-normalised vectors in input order, cut to `dimensions` when asked, with Ollama's counters;
 * the legacy route returns the raw vector. Options with no embeddings equivalent (`truncate`,
 * `options.*`) are not sent; they are logged in debug mode and named in `X-Proxy-Ignored-Options`.
 */
import { untagged } from "../../models/catalogue.ts";
import { jsonResponse, ProxyError } from "../../base/errors.ts";
import { noteHeader } from "../../base/headers.ts";
import { invalidField, optionalString, parseJsonObject, parseKeepAlive } from "./types.ts";
import type { UpstreamEmbeddings } from "../../upstream/wire.ts";
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";

type Body = Record<string, unknown>;

const ns = (ms: number) => Math.max(0, Math.round(ms * 1e6));

/** `input` as a list: a string, or an array of strings; absent, `""` and `[]` give `[]`. */
export function parseEmbedInput(value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new ProxyError(400, "invalid input type");
}

/** Scales `vector` to unit length (Ollama's `normalize`, with its guard against zero). */
export function l2Normalise(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  const scale = 1 / Math.max(norm, 1e-12);
  return vector.map((v) => v * scale);
}

function requiredModel(body: Body): string {
  const model = (optionalString(body, "model") ?? "").trim();
  if (model === "") throw new ProxyError(400, "model is required");
  return model;
}

function parseDimensions(value: unknown): number | undefined {
  if (value === undefined || value === null || value === 0) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw invalidField("dimensions", "a positive integer", value);
  }
  return value;
}

/** Checks the fields the upstream never sees and names the ones that have an effect in Ollama. */
function notForwarded(body: Body): string[] {
  parseKeepAlive(body.keep_alive);
  const { truncate, options } = body;
  if (truncate !== undefined && truncate !== null && typeof truncate !== "boolean") {
    throw invalidField("truncate", "true or false", truncate);
  }
  if (options !== undefined && options !== null) {
    if (typeof options !== "object" || Array.isArray(options)) {
      throw invalidField("options", "an object", options);
    }
  }
  return [
    ...(typeof truncate === "boolean" ? ["truncate"] : []),
    ...Object.keys((options as Body | null | undefined) ?? {}),
  ];
}

/** Calls the upstream and returns its vectors in input order, plus the prompt token count. */
async function embedUpstream(
  model: { sent: string; upstreamId: string },
  input: string[],
  dimensions: number | undefined,
  request: Request,
  deps: CoreDeps,
): Promise<{ vectors: number[][]; promptTokens: number | undefined }> {
  const body = dimensions === undefined
    ? { model: model.upstreamId, input }
    : { model: model.upstreamId, input, dimensions };
  let res: Response;
  try {
    res = await deps.embedUpstream.post("/embeddings", body, request.signal);
  } catch (err) {
    if (err instanceof ProxyError && isModelNotFound(err)) {
      throw new ProxyError(
        404,
        `model ${JSON.stringify(model.sent)} not found, try pulling it first`,
      );
    }
    throw err;
  }
  const json = await res.json().catch(() => undefined) as UpstreamEmbeddings | undefined;
  const data = Array.isArray(json?.data) ? [...json.data] : [];
  data.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const vectors = data.map((d) => d.embedding);
  if (
    vectors.length !== input.length ||
    !vectors.every((v): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number"))
  ) {
    throw new ProxyError(
      502,
      `the upstream embeddings answer has ${vectors.length} vectors of numbers for ${input.length} inputs`,
    );
  }
  return { vectors, promptTokens: json?.usage?.prompt_tokens ?? json?.usage?.total_tokens };
}

/** Aliases and listed names resolve through the catalogue; other names go as sent. */
async function upstreamIdOf(model: string, deps: CoreDeps): Promise<string> {
  return (await deps.catalogue.resolve(model))?.upstreamId ?? untagged(model);
}

/** Chutes answers an unknown model with 404, or with a message saying it is not found. */
function isModelNotFound(err: ProxyError): boolean {
  return err.status === 404 ||
    (err.status >= 400 && err.status < 500 &&
      /model[^.]*not found|no matching chute/i.test(err.message));
}

/** Embeddings are billed too: the request counts under its model, with its prompt tokens. */
function countEmbedding(ctx: RequestContext | undefined, model: string, tokens: number): void {
  if (!ctx) return;
  ctx.door = "ollama";
  ctx.model = model;
  ctx.promptTokens = tokens;
  ctx.completionTokens = 0;
}

function ignoredHeaders(ignored: string[]): Record<string, string> {
  return ignored.length > 0 ? { "x-proxy-ignored-options": noteHeader(ignored) } : {};
}

/** `POST /api/embed`. */
export async function handleEmbed(
  request: Request,
  deps: CoreDeps,
  ctx?: RequestContext,
): Promise<Response> {
  const startedAt = deps.clock.now();
  const body = parseJsonObject(await request.text());
  const model = requiredModel(body);
  const input = parseEmbedInput(body.input);
  const dimensions = parseDimensions(body.dimensions);
  const ignored = notForwarded(body);
  if (ignored.length > 0) deps.log.debug(`embed ${model}: not forwarded: ${ignored.join(", ")}`);
  if (input.length === 0) return jsonResponse({ model, embeddings: [] });
  const upstreamId = await upstreamIdOf(model, deps);
  const resolvedAt = deps.clock.now();
  const { vectors, promptTokens } = await embedUpstream(
    { sent: model, upstreamId },
    input,
    dimensions,
    request,
    deps,
  );
  const embeddings = vectors.map((v) =>
    l2Normalise(dimensions !== undefined && dimensions < v.length ? v.slice(0, dimensions) : v)
  );
  const estimate = Math.ceil(input.reduce((n, s) => n + s.length, 0) / 4);
  countEmbedding(ctx, model, Math.round(promptTokens ?? estimate));
  return jsonResponse(
    {
      model,
      embeddings,
      total_duration: ns(deps.clock.now() - startedAt),
      load_duration: ns(resolvedAt - startedAt),
      prompt_eval_count: Math.round(promptTokens ?? estimate),
    },
    200,
    ignoredHeaders(ignored),
  );
}

/** `POST /api/embeddings` (legacy): one `prompt`, one raw (not normalised) `embedding`. */
export async function handleEmbeddings(
  request: Request,
  deps: CoreDeps,
  ctx?: RequestContext,
): Promise<Response> {
  const body = parseJsonObject(await request.text());
  const model = requiredModel(body);
  const prompt = optionalString(body, "prompt") ?? "";
  const ignored = notForwarded(body);
  if (ignored.length > 0) {
    deps.log.debug(`embeddings ${model}: not forwarded: ${ignored.join(", ")}`);
  }
  if (prompt === "") return jsonResponse({ embedding: [] });
  const upstreamId = await upstreamIdOf(model, deps);
  const { vectors, promptTokens } = await embedUpstream(
    { sent: model, upstreamId },
    [prompt],
    undefined,
    request,
    deps,
  );
  countEmbedding(ctx, model, Math.round(promptTokens ?? Math.ceil(prompt.length / 4)));
  return jsonResponse({ embedding: vectors[0] }, 200, ignoredHeaders(ignored));
}
