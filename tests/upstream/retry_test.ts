/**
 * The retry policy alone: which failures are transient, how Retry-After is read, and the
 * jittered, capped backoff.
 */
import assert from "node:assert/strict";
import { ProxyError, upstreamHttpError } from "../../lib/base/errors.ts";
import {
  backoffDelay,
  DEFAULT_RETRY,
  isTransient,
  parseRetryAfter,
} from "../../lib/upstream/retry.ts";

Deno.test("isTransient: capacity failures and the proxy's own gateway errors yes; client, auth, quota, daily caps and an upstream's own 502/504 no", () => {
  const cases: [number, string, boolean][] = [
    [429, "Infrastructure is at maximum capacity, try again later", true],
    [429, "no_targets", true],
    [429, "Too many requests", true],
    [
      429,
      "Free models limit reached for today - maintain >= $10 balance or upgrade subscription to pro",
      false,
    ],
    [429, "Stop spamming this prompt, please...", false],
    [500, "exhausted all available targets to no avail", true],
    [500, "No result returned from upstream", true],
    [500, "Unhandled error generating response: boom", false],
    [502, "cannot reach the upstream", true],
    [503, "No instances available (yet) for chute_id=x", true],
    [504, "did not answer within 120 s", true],
    [400, "invalid request JSON payload", false],
    [401, "Authentication required.", false],
    [402, "Quota exceeded and account balance is $0", false],
    [404, "model not found: x", false],
  ];
  for (const [status, message, expected] of cases) {
    // The proxy's own 502 (never connected) and 504 (budget spent) are marked retryable.
    const own = status === 502 || status === 504;
    assert.equal(
      isTransient(new ProxyError(status, message, own)),
      expected,
      `${status} ${message}`,
    );
  }
  // The same statuses answered by the upstream (a gateway page) are not sent again: the request
  // may have reached a miner that still runs it.
  for (const status of [502, 504]) {
    assert.equal(isTransient(upstreamHttpError(status, "<html>Bad Gateway</html>")), false);
  }
  assert.equal(isTransient(upstreamHttpError(503, "No instances available")), true);
});

Deno.test("parseRetryAfter reads seconds and HTTP dates", () => {
  const now = Date.parse("2026-11-24T12:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter("0.5", now), 500);
  assert.equal(parseRetryAfter("Tue, 24 Nov 2026 12:00:07 GMT", now), 7000);
  assert.equal(parseRetryAfter("Tue, 24 Nov 2026 11:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter("soon", now), undefined);
});

Deno.test("backoffDelay doubles per retry with jitter in [cap/2, cap], capped, and honours Retry-After", () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(1, policy, () => 0), 50);
  assert.equal(backoffDelay(1, policy, () => 1), 100);
  assert.equal(backoffDelay(3, policy, () => 1), 400);
  assert.equal(backoffDelay(10, policy, () => 1), 1000);
  assert.equal(backoffDelay(10, policy, () => 0), 500);
  assert.equal(backoffDelay(2, policy, () => 0.5, 2500), 2500);
});
