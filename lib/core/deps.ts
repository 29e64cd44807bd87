/**
 * What every door and ops handler may use: the validated config, the upstream clients, the model
 * catalogue, the running-model tracker, the counters, the clock, the log, the Chutes account
 * view and per-model warmth. Built once by
 * lib/app.ts; tests build it the same way with their own `fetch`, clock and log sink.
 */
import type { Clock } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { Metrics } from "../base/metrics.ts";
import type { Config } from "../config/config.ts";
import type { Catalogue } from "../models/catalogue.ts";
import type { RunningModels } from "../models/running.ts";
import type { TokenCheck } from "../models/token_check.ts";
import type { Upstream } from "../upstream/client.ts";
import type { AccountWatch } from "../models/account.ts";
import type { Warmth } from "../models/warmth.ts";

/** The app's shared parts, as every handler sees them. */
export interface CoreDeps {
  config: Config;
  upstream: Upstream;
  /** Every chat upstream, the primary first (index = `ModelFacts.upstreamIndex`). */
  upstreams: readonly Upstream[];
  /** The upstream for embeddings (Chutes serves them from another host). */
  embedUpstream: Upstream;
  catalogue: Catalogue;
  metrics: Metrics;
  running: RunningModels;
  /** Whether the upstream accepts the token (checked once at start-up). */
  tokenCheck: TokenCheck;
  clock: Clock;
  log: Logger;
  /** Every secret the proxy holds (the tokens, the access keys): redacted from all it writes. */
  secrets: readonly string[];
  /** The Chutes account (quota, balance) as last fetched from the management API. */
  account: AccountWatch;
  /** Per-model warmth on Chutes, and warm-ups. */
  warmth: Warmth;
}
