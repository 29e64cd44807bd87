/**
 * `GET /v1/models` and `GET /v1/models/{id}`: the catalogue in OpenAI's list shape, in the same
 * order as `/api/tags`.
 */
import { ProxyError } from "../../base/errors.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { tagged } from "../../models/catalogue.ts";

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
export async function handleOpenAIModels(_request: Request, deps: CoreDeps): Promise<Response> {
  const models = await deps.catalogue.list();
  const data = models.map((m) => modelObject(m.name, Math.floor(Date.parse(m.modifiedAt) / 1000)));
  return Response.json({ object: "list", data });
}

/** `GET /v1/models/{id}` (the id may contain `/`). */
export async function handleOpenAIModel(id: string, deps: CoreDeps): Promise<Response> {
  const resolved = await deps.catalogue.resolve(id);
  if (!resolved?.facts) throw new ProxyError(404, `model '${id}' not found`);
  const created = Math.floor(Date.parse(resolved.facts.modifiedAt) / 1000);
  return Response.json({ ...modelObject(id.includes(":") ? id : tagged(id), created), id });
}
