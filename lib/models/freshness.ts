/**
 * Keeps the catalogue fresh in the background, so readiness reflects the upstream and not the
 * traffic: a listing at start, then one every `periodMs` while it succeeds (skipped while
 * requests keep the list younger than that); after a failure, retries with capped exponential
 * backoff — 1 s, 2 s, 4 s … up to 60 s — until one succeeds, so a proxy that started before the
 * network (a boot, a compose start order) has its models within seconds of the upstream
 * answering. The timers never keep the process alive; aborting `signal` ends the loop.
 */
import type { Catalogue } from "./catalogue.ts";

/** The schedule of `keepFresh`. */
export interface FreshnessOptions {
  /** Between successful listings. */
  periodMs: number;
  /** The first wait after a failure; it doubles up to `maxRetryMs`. */
  firstRetryMs?: number;
  maxRetryMs?: number;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    Deno.unrefTimer(timer);
    signal.addEventListener("abort", done, { once: true });
  });
}

const duration = (ms: number) => ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;

/** Lists now, then keeps listing on the schedule until `signal` aborts. */
export async function keepFresh(
  catalogue: Catalogue,
  signal: AbortSignal,
  options: FreshnessOptions,
): Promise<void> {
  const first = options.firstRetryMs ?? 1000;
  const max = options.maxRetryMs ?? 60_000;
  let failures = 0;
  while (!signal.aborted) {
    const retryMs = Math.min(first * 2 ** failures, max);
    const ok = await catalogue.refresh(`; retrying in ${duration(retryMs)}`);
    failures = ok ? 0 : failures + 1;
    if (!ok) {
      await wait(retryMs, signal);
      continue;
    }
    // A request may have refreshed the list meanwhile: wait until it is `periodMs` old.
    do await wait(options.periodMs - catalogue.ageMs, signal); while (
      !signal.aborted && catalogue.ageMs < options.periodMs
    );
  }
}
