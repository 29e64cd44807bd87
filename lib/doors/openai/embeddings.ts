/**
 * `POST /v1/embeddings`: the input is checked as OpenAI does, the model resolved through the
 * catalogue, and the request forwarded to the embeddings upstream; the answer is relayed as JSON.
 */
import { ProxyError } from "../../base/errors.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { untagged } from "../../models/catalogue.ts";
import { readBody, requireModel } from "./request.ts";

/** `POST /v1/embeddings`: forwarded to the embeddings upstream. */
export async function handleOpenAIEmbeddings(request: Request, deps: CoreDeps): Promise<Response> {
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
  return new Response(res.body, { headers: { "content-type": "application/json" } });
}
