/**
 * The status page's data (`GET /ui/data`): uptime, upstream health, the models with their
 * capabilities, context length and price, the last requests, per-minute tokens and errors for
 * the last hour, and the usage cost so far estimated from the Chutes catalogue's pricing
 * (USD per million tokens). The page itself (lib/status_page.ts) is static and fetches this.
 */
import type { CoreDeps } from "../core/deps.ts";
import { PROXY_VERSION } from "../base/version.ts";

/** Estimated cost in USD of `tokensIn`/`tokensOut` at a per-million price. */
export function costUsd(
  tokensIn: number,
  tokensOut: number,
  pricing: { prompt: number; completion: number } | undefined,
): number | null {
  if (!pricing) return null;
  return (tokensIn * pricing.prompt + tokensOut * pricing.completion) / 1e6;
}

/** Builds the `/ui/data` body. */
export async function statusData(deps: CoreDeps): Promise<Record<string, unknown>> {
  const models = await deps.catalogue.list();
  const usage = [];
  let total = 0;
  for (const [model, tokens] of Object.entries(deps.metrics.tokensByModel())) {
    const facts = (await deps.catalogue.resolve(model))?.facts;
    const cost = costUsd(tokens.in, tokens.out, facts?.pricing);
    if (cost !== null) total += cost;
    usage.push({ model, tokens_in: tokens.in, tokens_out: tokens.out, cost_usd: cost });
  }
  const lastSuccess = deps.catalogue.lastSuccessAt;
  return {
    proxy_version: PROXY_VERSION,
    ollama_version: deps.config.ollama_version,
    uptime_seconds: Math.round((deps.metrics.now() - deps.metrics.startedAt) / 1000),
    upstream: {
      base_url: deps.config.base_url,
      reachable: deps.catalogue.live,
      listing_error: deps.catalogue.lastError ?? null,
      token: deps.tokenCheck.verdict,
      last_listing_age_seconds: lastSuccess === 0
        ? null
        : Math.round((Date.now() - lastSuccess) / 1000),
    },
    open_streams: deps.metrics.openStreams,
    models: models.map((m) => ({
      name: m.name,
      capabilities: m.capabilities,
      context_length: m.contextLength ?? null,
      pricing: m.pricing ?? null,
    })),
    recent: deps.metrics.recent(),
    last_hour: deps.metrics.lastHour(),
    usage,
    total_cost_usd: total,
  };
}
