/**
 * Retry policy for upstream calls, before the first byte only: which failures are transient
 * (a connection never made, the proxy's own time-out, Chutes' capacity and rate 429s, 500
 * "exhausted all available targets", 503 "no instances"; not an upstream's own 502/504, which
 * may hide a request that still runs and bills), how long to wait (capped exponential backoff with full jitter, or the
 * upstream's `Retry-After`), and the per-request budget (attempts and total wait). Quota and
 * free-tier caps, and 400/401/402/404, are never retried: waiting will not fix them; nor is a
 * request the upstream may already have processed, or a redirect (`NotRetriable`).
 */
import { ProxyError } from "../base/errors.ts";

/** Budget and pacing for one request's retries. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  attempts: number;
  /** Most total time spent waiting between attempts, in milliseconds. */
  maxWaitMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The default: 3 attempts, at most 15 s of waiting, 0.5 s doubling to at most 8 s. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 3,
  maxWaitMs: 15_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
};

// Chutes 429 bodies that mean "not today" rather than "not right now".
const PERMANENT_429 =
  /free models limit|limit reached for today|quota|balance|subscription|stop spamming/i;
const TRANSIENT_500 = /exhausted all available targets|no result returned from upstream/i;

/**
 * A failure that another attempt must not follow, whatever its status: a request the upstream
 * may already have processed (the connection broke once it went out), where another attempt or
 * a fallback model could make it do the work and bill it twice; or a redirect, which no retry
 * will change. Never retried, never handed to a fallback.
 */
export class NotRetriable extends ProxyError {
  constructor(status: number, message: string) {
    super(status, message);
    this.name = "NotRetriable";
  }
}

/** True when a failure before the first byte is worth another attempt. */
export function isTransient(err: ProxyError): boolean {
  if (err instanceof NotRetriable) return false;
  switch (err.status) {
    case 429:
      return !PERMANENT_429.test(err.message);
    case 500:
      return TRANSIENT_500.test(err.message);
    case 503:
      return true;
    case 502:
    case 504:
      // Only when the proxy made it (the upstream never connected, the budget ran out): an
      // upstream's own 502/504 may hide a request that still runs and bills.
      return err.retryable;
    default:
      return false;
  }
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before retry number `retry` (1 for the first retry): jittered exponential, or Retry-After. */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** A sleep that ends early (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ProxyError(499, "request canceled"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProxyError(499, "request canceled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
