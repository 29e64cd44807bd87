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
import { createLogger, type LogSink } from "./base/log.ts";
import { DEFAULT_RETRY } from "./upstream/retry.ts";
import { Metrics } from "./base/metrics.ts";
import { RunningModels } from "./models/running.ts";
import { createHandler, type ServerDeps } from "./server/router.ts";
import { ANTHROPIC_ROUTES } from "./doors/anthropic/routes.ts";
import { OLLAMA_ROUTES } from "./doors/ollama/routes.ts";
import { OPENAI_ROUTES } from "./doors/openai/routes.ts";
import { RESPONSES_ROUTES } from "./doors/responses/routes.ts";
import { OPS_ROUTES } from "./ops/routes.ts";
import { Upstream } from "./upstream/client.ts";
import { fetchTransport, type Transport } from "./upstream/transport.ts";
import { undiciTransport } from "./upstream/undici.ts";
import { MergedListing } from "./models/listing.ts";
import { type Clock, systemClock } from "./base/clock.ts";

/** Optional replacements for the outside world. */
export interface AppOptions {
  /** An in-process upstream (the demo) instead of the network. */
  fetch?: typeof fetch;
  /** The environment, for `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (none when absent). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The certificate authorities of `upstream_ca_file`, as PEM text (`readCaFile`). */
  upstreamCa?: string;
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

/** Builds the dependencies and the fetch handler for `config`; `close` ends its connections. */
export function createApp(
  config: Config,
  options: AppOptions = {},
): {
  deps: ServerDeps;
  handler: (request: Request) => Promise<Response>;
  close: () => Promise<void>;
} {
  const secrets = [
    config.api_token,
    ...config.api_keys,
    ...config.upstreams.map((u) => u.api_token ?? ""),
  ].filter((s) => s !== "");
  const log = createLogger({
    debug: config.debug,
    secrets,
    ...(options.logSink ? { sink: options.logSink } : {}),
  });
  const wallNow = options.wallNow ?? Date.now;
  const transport: Transport = options.fetch
    ? fetchTransport(options.fetch)
    : undiciTransport({ ca: options.upstreamCa, env: options.env });
  const upstreamFor = (baseUrl: string, token: string | null = config.api_token) =>
    new Upstream({
      baseUrl,
      token: token ?? "",
      transport,
      secrets,
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
    keys: new KeyCheck(config.api_keys),
    metrics: new Metrics(wallNow),
    running: new RunningModels(wallNow),
    clock: options.clock ?? systemClock,
    log,
    secrets,
  };
  return {
    deps,
    handler: createHandler(deps, [
      OPS_ROUTES,
      RESPONSES_ROUTES,
      ANTHROPIC_ROUTES,
      OPENAI_ROUTES,
      OLLAMA_ROUTES,
    ]),
    close: () => transport.close(),
  };
}
