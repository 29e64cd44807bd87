/**
 * The status page's data (`GET /ui/data`): uptime, upstream health and whether the token was
 * accepted, the Chutes account (quota, reset times, balance), the models with their
 * capabilities, context length, price and warmth, the last requests with the failure reason of
 * each failed one, the errors of the last hour, per-minute tokens and errors, and usage today,
 * this week and this month from the persistent store, with cost estimated from the Chutes
 * catalogue's pricing (USD per million tokens). Asking for it is what makes the proxy poll the
 * account and the utilisation list (at most once a minute). The page (status_page.ts) is static.
 */
import type { CoreDeps } from "../core/deps.ts";
import { PROXY_VERSION } from "../base/version.ts";
import type { RequestRecord } from "../base/metrics.ts";
import { accountData } from "./account_view.ts";
import { periodStarts, type UsageStore } from "./usage_store.ts";

/** Estimated cost in USD of `tokensIn`/`tokensOut` at a per-million price. */
export function costUsd(
  tokensIn: number,
  tokensOut: number,
  pricing: { prompt: number; completion: number } | undefined,
): number | null {
  if (!pricing) return null;
  return (tokensIn * pricing.prompt + tokensOut * pricing.completion) / 1e6;
}

/** How long the page waits for the account and utilisation before answering with what it has. */
const LOOK_WAIT_MS = 2000;

/** A request as the page lists it: the record, how it ended, and null for what is unknown. */
function requestRow(r: RequestRecord) {
  return {
    ...r,
    outcome: r.failed ? "failed" : r.aborted ? "aborted" : "ok",
    door: r.door ?? null,
    keyName: r.keyName ?? null,
    error: r.error ?? null,
    ttftMs: r.ttftMs ?? null,
  };
}

/** Builds the `/ui/data` body. */
export async function statusData(
  deps: CoreDeps,
  usage: UsageStore,
): Promise<Record<string, unknown>> {
  const now = deps.metrics.now();
  await Promise.all([deps.account.look(LOOK_WAIT_MS), deps.warmth.look(LOOK_WAIT_MS)]);
  const account = deps.account.state;
  const models = await deps.catalogue.list();
  const session = [];
  let total = 0;
  for (const [model, tokens] of Object.entries(deps.metrics.tokensByModel())) {
    const facts = deps.catalogue.peek(model);
    const cost = costUsd(tokens.in, tokens.out, facts?.pricing);
    if (cost !== null) total += cost;
    session.push({ model, tokens_in: tokens.in, tokens_out: tokens.out, cost_usd: cost });
  }
  const lastSuccess = deps.catalogue.lastSuccessAt;
  const probe = deps.tokenCheck.verdict;
  const starts = periodStarts(now);
  return {
    proxy_version: PROXY_VERSION,
    ollama_version: deps.config.ollama_version,
    uptime_seconds: Math.round((now - deps.metrics.startedAt) / 1000),
    upstream: {
      base_url: deps.config.base_url,
      reachable: deps.catalogue.live,
      last_listing_age_seconds: lastSuccess === 0 ? null : Math.round((now - lastSuccess) / 1000),
      listing_error: deps.catalogue.lastError ?? null,
      // The chat API's verdict (the start-up probe) wins over the management API's when it
      // refused the token: that is what every request will meet.
      token_valid: probe.state === "refused" ? false : account.tokenValid ??
        (probe.state === "accepted" || probe.state === "unpaid" ? true : null),
      token_problem: probe.state === "refused" ? probe.message : account.tokenProblem,
      token_check: probe,
    },
    account: accountData(account, now),
    open_streams: deps.metrics.openStreams,
    warmth_error: deps.warmth.error,
    models: models.map((m) => {
      const warm = m.upstreamIndex === 0 ? deps.warmth.of(m.upstreamId) : undefined;
      return {
        name: m.name,
        capabilities: m.capabilities,
        context_length: m.contextLength ?? null,
        pricing: m.pricing ?? null,
        warmth: warm
          ? { state: warm.state, busy: warm.busy, instances: warm.instances, source: warm.source }
          : null,
      };
    }),
    recent: deps.metrics.recent().map(requestRow),
    errors_last_hour: deps.metrics.lastHourErrors().map(requestRow),
    last_hour: deps.metrics.lastHour(),
    usage: session,
    total_cost_usd: total,
    stored_usage: {
      where: usage.where,
      problem: usage.problem,
      retention_days: usage.retentionDays,
      today: usage.since(starts.today),
      week: usage.since(starts.week),
      month: usage.since(starts.month),
    },
  };
}
