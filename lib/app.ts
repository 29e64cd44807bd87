/**
 * Wires the app's parts together from a validated config: the upstream client, the catalogue,
 * the running-model tracker and the handler. `main.ts` and the tests both build the app here,
 * passing their own `fetch`, clock and log sink.
 */
import type { AliasStore } from "./models/aliases_file.ts";
import { KeyCheck } from "./server/auth.ts";
import { Catalogue } from "./models/catalogue.ts";
import type { Config } from "./config/config.ts";
import { CorsPolicy } from "./server/cors.ts";
import { HostCheck, machineHostname } from "./server/host.ts";
import { createLogger, type LogSink } from "./base/log.ts";
import { DEFAULT_RETRY } from "./upstream/retry.ts";
import { Metrics } from "./base/metrics.ts";
import { RunningModels } from "./models/running.ts";
import { createHandler, type Handler, type ServerDeps } from "./server/router.ts";
import { OLLAMA_ROUTES } from "./doors/ollama/routes.ts";
import { OPENAI_ROUTES } from "./doors/openai/routes.ts";
import { OPS_ROUTES } from "./ops/routes.ts";
import { Upstream } from "./upstream/client.ts";
import { MergedListing } from "./models/listing.ts";
import { type Clock, systemClock } from "./base/clock.ts";
import { TokenCheck } from "./models/token_check.ts";
import { keepFresh } from "./models/freshness.ts";

/** Optional replacements for the outside world. */
export interface AppOptions {
  fetch?: typeof fetch;
  clock?: Clock;
  logSink?: LogSink;
  /** Aborted when a shutdown's grace period is over: open upstream streams end with an error. */
  shutdown?: AbortSignal;
  /** Replaces the wait between retries (tests record it instead of waiting). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Wall clock in milliseconds (catalogue TTL, `/api/ps` expiry). */
  wallNow?: () => number;
  /** Where `/api/copy` aliases persist (`main.ts` opens the aliases file); memory when absent. */
  aliasStore?: AliasStore;
}

/** Builds the dependencies and the fetch handler for `config`. */
export function createApp(
  config: Config,
  options: AppOptions = {},
): { deps: ServerDeps; handler: Handler } {
  const log = createLogger({
    debug: config.debug,
    secrets: [
      config.api_token,
      ...config.api_keys,
      ...config.upstreams.map((u) => u.api_token ?? ""),
    ],
    ...(options.logSink ? { sink: options.logSink } : {}),
  });
  const wallNow = options.wallNow ?? Date.now;
  const upstreamFor = (baseUrl: string, token: string | null = config.api_token) =>
    new Upstream({
      baseUrl,
      token: token ?? "",
      fetch: options.fetch ?? fetch,
      log,
      retry: {
        ...DEFAULT_RETRY,
        attempts: config.retry_attempts,
        maxWaitMs: config.retry_max_wait_seconds * 1000,
      },
      firstByteTimeoutMs: config.first_byte_timeout_seconds * 1000,
      idleTimeoutMs: config.idle_timeout_seconds * 1000,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.shutdown ? { shutdown: options.shutdown } : {}),
    });
  const upstream = upstreamFor(config.base_url);
  const extras = config.upstreams.map((u) => ({
    upstream: upstreamFor(u.base_url, u.api_token),
    config: u,
  }));
  const listing = new MergedListing(upstream, extras, log);
  const catalogue = new Catalogue({
    config,
    listModels: () => listing.list(),
    now: wallNow,
    log,
    ...(options.aliasStore ? { aliasStore: options.aliasStore } : {}),
  });
  const deps: ServerDeps = {
    config,
    upstream,
    upstreams: [upstream, ...extras.map((e) => e.upstream)],
    embedUpstream: config.embed_base_url === config.base_url
      ? upstream
      : upstreamFor(config.embed_base_url),
    catalogue,
    cors: new CorsPolicy(config.origins),
    hosts: new HostCheck(config.host, config.allowed_hosts, machineHostname()),
    keys: new KeyCheck(config.api_keys, options.sleep ? { wait: options.sleep } : {}),
    metrics: new Metrics(wallNow),
    running: new RunningModels(wallNow),
    tokenCheck: new TokenCheck({
      baseUrl: config.base_url,
      token: config.api_token,
      fetch: options.fetch ?? fetch,
      log,
    }),
    clock: options.clock ?? systemClock,
    log,
  };
  return { deps, handler: createHandler(deps, [OPS_ROUTES, OPENAI_ROUTES, OLLAMA_ROUTES]) };
}

/**
 * Starts the app's background work, which ends when `signal` aborts: the catalogue kept fresh
 * (lib/models/freshness.ts; every `catalogue_ttl_seconds`, 30 s at least, and retried with
 * backoff after a failure) and, unless `checkToken` is false (demo mode), the one token check.
 */
export function startBackground(
  deps: ServerDeps,
  signal: AbortSignal,
  options: { checkToken?: boolean; firstRetryMs?: number } = {},
): Promise<unknown> {
  const periodMs = Math.max(deps.config.catalogue_ttl_seconds, 30) * 1000;
  return Promise.all([
    keepFresh(deps.catalogue, signal, {
      periodMs,
      ...(options.firstRetryMs ? { firstRetryMs: options.firstRetryMs } : {}),
    }),
    options.checkToken === false ? undefined : deps.tokenCheck.run(),
  ]);
}
