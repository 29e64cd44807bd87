/**
 * Wires the app's parts together from a validated config: the upstream client, the catalogue,
 * the running-model tracker, the Chutes account view and warmth (through the management API),
 * the persistent usage store and the handler. `main.ts` and the tests both build the app here,
 * passing their own `fetch`, clock, log sink and usage store.
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
import { ANTHROPIC_ROUTES } from "./doors/anthropic/routes.ts";
import { OLLAMA_ROUTES } from "./doors/ollama/routes.ts";
import { OPENAI_ROUTES } from "./doors/openai/routes.ts";
import { opsRoutes } from "./ops/routes.ts";
import { ManagementApi } from "./upstream/management.ts";
import { AccountWatch, managementOff } from "./models/account.ts";
import { Warmth } from "./models/warmth.ts";
import { UsageStore } from "./ops/usage_store.ts";
import { costUsd } from "./ops/status.ts";
import { KeyNames } from "./server/key_names.ts";
import { RESPONSES_ROUTES } from "./doors/responses/routes.ts";
import { Upstream } from "./upstream/client.ts";
import { fetchTransport, type Transport } from "./upstream/transport.ts";
import { undiciTransport } from "./upstream/undici.ts";
import { MergedListing } from "./models/listing.ts";
import { type Clock, systemClock } from "./base/clock.ts";
import { TokenCheck } from "./models/token_check.ts";
import { keepFresh } from "./models/freshness.ts";

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
  /** Where usage persists (`main.ts` opens the state directory's file); memory when absent. */
  usageStore?: UsageStore;
}

/** Builds the dependencies and the fetch handler for `config`; `close` ends its connections. */
export function createApp(
  config: Config,
  options: AppOptions = {},
): {
  deps: ServerDeps;
  handler: Handler;
  usage: UsageStore;
  close: () => Promise<void>;
} {
  const secrets = [
    config.api_token,
    ...config.api_keys,
    ...config.upstreams.map((u) => u.api_token ?? ""),
  ].filter((s) => s !== "");
  const log = createLogger({
    debug: config.debug,
    format: config.log_format,
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
  // No account and no warm-ups in demo mode, or when the token is not a Chutes token.
  const off = managementOff(config);
  const management = off !== undefined ? undefined : new ManagementApi({
    baseUrl: config.management_base_url,
    token: config.api_token,
    fetch: options.fetch ?? fetch,
    secrets,
  });
  const metrics = new Metrics(wallNow);
  const usage = options.usageStore ?? UsageStore.memory({ now: wallNow, log });
  metrics.onRecord((r) => {
    if (!r.model) return;
    const price = catalogue.peek(r.model)?.pricing;
    usage.add({
      at: r.at,
      model: r.model,
      door: r.door ?? "other",
      keyName: r.keyName ?? "",
      failed: r.failed,
      tokensIn: r.promptTokens,
      tokensOut: r.completionTokens,
      costUsd: costUsd(r.promptTokens, r.completionTokens, price),
    });
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
    hosts: new HostCheck(
      config.host,
      config.allowed_hosts,
      machineHostname(),
      config.api_keys.length > 0,
    ),
    keys: new KeyCheck(config.api_keys, options.sleep ? { wait: options.sleep } : {}),
    keyNames: new KeyNames(config.api_keys.length > 0, config.key_names),
    metrics,
    running: new RunningModels(wallNow),
    tokenCheck: new TokenCheck({
      baseUrl: config.base_url,
      token: config.api_token,
      fetch: options.fetch ?? fetch,
      log,
    }),
    clock: options.clock ?? systemClock,
    log,
    secrets,
    account: new AccountWatch({
      ...(management ? { api: management } : {}),
      ...(off ? { disabled: off } : {}),
      now: wallNow,
      log,
    }),
    warmth: new Warmth({
      ...(management ? { api: management } : {}),
      now: wallNow,
      log,
      timeoutMs: config.warmup_timeout_seconds * 1000,
    }),
  };
  const ops = opsRoutes({ usage });
  return {
    deps,
    handler: createHandler(deps, [
      ops,
      RESPONSES_ROUTES,
      ANTHROPIC_ROUTES,
      OPENAI_ROUTES,
      OLLAMA_ROUTES,
    ]),
    close: () => transport.close(),
    usage,
  };
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
