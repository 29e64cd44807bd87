/**
 * `POST /v1/embeddings`: the input is checked as OpenAI does, the model resolved through the
 * catalogue, and the request forwarded to the embeddings upstream; the answer is relayed as JSON,
 * its prompt tokens counted like a chat's.
 */
import { ProxyError } from "../../base/errors.ts";
import type { RequestContext } from "../../core/context.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { untagged } from "../../models/catalogue.ts";
import { readBody, requireModel } from "./request.ts";

/** `POST /v1/embeddings`: forwarded to the embeddings upstream. */
export async function handleOpenAIEmbeddings(
  request: Request,
  deps: CoreDeps,
  ctx?: RequestContext,
): Promise<Response> {
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
  const text = await res.text();
  if (ctx) {
    // Embeddings are billed too: the request counts under its model, with its prompt tokens.
    ctx.door = "openai";
    ctx.model = model;
    ctx.promptTokens = promptTokensOf(text);
    ctx.completionTokens = 0;
  }
  return new Response(text, { headers: { "content-type": "application/json" } });
}

/** The prompt tokens an embeddings answer reports (0 when it does not say). */
function promptTokensOf(text: string): number {
  try {
    const usage =
      (JSON.parse(text) as { usage?: { prompt_tokens?: unknown; total_tokens?: unknown } })
        .usage;
    const n = usage?.prompt_tokens ?? usage?.total_tokens;
    return typeof n === "number" ? n : 0;
  } catch {
    return 0;
  }
}
