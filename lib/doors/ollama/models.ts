/**
 * Ollama's model routes: `/api/tags` (the catalogue in Ollama's shape), `/api/show` (one model's
 * details, template and parameters) and `/api/ps` (models used recently). Names resolve through
 * the catalogue, aliases included.
 */
import { jsonResponse, ProxyError } from "../../base/errors.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { tagged, untagged } from "../../models/catalogue.ts";
import { modelFacts, showBody, tagsEntry } from "../../models/views.ts";
import { optionalString, parseJsonObject } from "./types.ts";

/** `GET /api/tags`. */
export async function handleTags(_request: Request, deps: CoreDeps): Promise<Response> {
  const models = await deps.catalogue.list();
  return jsonResponse({ models: models.map(tagsEntry) });
}

/** `POST /api/show`. */
export async function handleShow(request: Request, deps: CoreDeps): Promise<Response> {
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
