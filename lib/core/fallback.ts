/**
 * Fallback chains: config `fallbacks` maps a model (id, listed name or alias) to alternates
 * tried in order when the model fails transiently after its own retries — a cold DeepSeek gives
 * way to a warm Qwen. Only failures before the first byte move down the chain; what answered is
 * reported back so the response can name the model that actually answered. Chutes' own pools
 * (`"a,b,c"`, `:latency`, `:throughput`) are a single candidate and pass through untouched.
 */
import { type Resolved, untagged } from "../models/catalogue.ts";
import { ProxyError } from "../base/errors.ts";
import { isTransient } from "../upstream/retry.ts";
import type { CoreDeps } from "./deps.ts";
import type { UpstreamTrace } from "../upstream/client.ts";
import { outputLimit, promptEstimate } from "./policy.ts";

/** What the fallback loop needs from the app. */
export type FallbackDeps = Pick<
  CoreDeps,
  "config" | "catalogue" | "upstream" | "upstreams" | "log"
>;

/** A successful upstream answer and the candidate that gave it. */
export interface Answered {
  response: Response;
  model: Resolved;
  /** The name the candidate is known by to clients (for fallbacks: its listed name). */
  name: string;
  fallback: boolean;
}

async function chainFor(
  primary: Resolved,
  requested: string,
  body: Record<string, unknown>,
  deps: FallbackDeps,
): Promise<Resolved[]> {
  const table = deps.config.fallbacks;
  const keys = [requested, untagged(requested), primary.upstreamId, primary.facts?.name ?? ""];
  const names = keys.map((k) => table[k]).find((list) => list !== undefined) ?? [];
  const chain = [primary];
  for (const name of names) {
    const alt = await deps.catalogue.resolve(name);
    if (!alt) deps.log.warn(`fallback "${name}" for ${requested} is not a known model; skipped`);
    else if (!canServe(alt, body)) {
      deps.log.debug(`fallback "${name}" for ${requested} lacks tools; skipped`);
    } else if (!chain.some((c) => c.upstreamId === alt.upstreamId)) chain.push(alt);
  }
  return chain;
}

/** An alternate that is known to lack tools cannot take a request that offers them. */
function canServe(candidate: Resolved, body: Record<string, unknown>): boolean {
  const facts = candidate.facts;
  const tools = Array.isArray(body.tools) && body.tools.length > 0;
  return !tools || !facts?.featuresKnown || facts.capabilities.includes("tools");
}

/** The output limit is the alternate's own: what it can give this prompt. */
function fitTo(candidate: Resolved, body: Record<string, unknown>): void {
  const limit = outputLimit(candidate, promptEstimate(body));
  if (limit !== undefined && typeof body.max_tokens === "number" && body.max_tokens > limit) {
    body.max_tokens = limit;
  }
}

/**
 * POSTs `body` for the primary model, then for each fallback in turn while the failure is
 * transient. `body.model` is set per candidate. The last failure is thrown when all fail.
 */
export async function postWithFallbacks(
  path: string,
  body: Record<string, unknown>,
  primary: Resolved,
  requested: string,
  signal: AbortSignal,
  deps: FallbackDeps,
  trace: UpstreamTrace = { attempts: 0 },
): Promise<Answered> {
  const chain = await chainFor(primary, requested, body, deps);
  let attempts = 0;
  for (const [i, candidate] of chain.entries()) {
    body.model = candidate.upstreamId;
    if (i > 0) fitTo(candidate, body);
    try {
      const upstream = deps.upstreams[candidate.facts?.upstreamIndex ?? 0] ?? deps.upstream;
      const response = await upstream.post(path, body, signal, trace);
      trace.attempts += attempts;
      const fallback = i > 0;
      return {
        response,
        model: candidate,
        name: fallback ? candidate.facts?.name ?? candidate.upstreamId : requested,
        fallback,
      };
    } catch (err) {
      attempts += trace.attempts;
      const next = chain[i + 1];
      if (!(err instanceof ProxyError) || !isTransient(err) || !next) {
        trace.attempts = attempts;
        throw err;
      }
      deps.log.warn(
        `${candidate.upstreamId} failed (${err.status}: ${err.message}); falling back to ${next.upstreamId}`,
      );
    }
  }
  throw new ProxyError(500, "no model to try"); // unreachable: the chain holds the primary
}
