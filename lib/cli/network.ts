/**
 * Why an upstream could not be reached, told apart for `--check`: a DNS failure, a refused
 * connection, a time-out, a TLS failure, or anything else — each with the fix to try.
 */
import { DEFAULT_BASE_URL } from "../config/config.ts";

/** A failed step's message and its fix. */
export type Problem = { message: string; fix: string };

/** What to do about a wrong base URL. */
export const URL_FIX =
  'Set CHUTES_BASE_URL (or "base_url" in config.json) to the OpenAI-compatible ' +
  `API root; for Chutes it is ${DEFAULT_BASE_URL} (the default: remove the setting to use it).`;
const networkFix = (host: string) =>
  `Check that this machine is online and can reach ${host} (firewall, VPN or HTTP proxy in the ` +
  `way?). If the address is wrong: base_url should look like ${DEFAULT_BASE_URL}.`;

/** Says why `url` could not be reached: DNS, refused connection, time-out, TLS, or other. */
export function networkProblem(url: string, err: unknown, timedOutAfterMs?: number): Problem {
  const { host, hostname } = new URL(url);
  const cause = (err as { cause?: unknown })?.cause;
  const reason = (cause instanceof Error ? cause.message : (err as Error)?.message ?? String(err))
    .replace(/^error sending request for url \([^)]*\): /, "");
  if (timedOutAfterMs !== undefined) {
    return {
      message: `no answer from ${host} within ${timedOutAfterMs / 1000} s`,
      fix: networkFix(host),
    };
  }
  if (
    /dns error|failed to lookup|name or service not known|nodename nor servname|no such host/i.test(
      reason,
    )
  ) {
    return {
      message: `cannot resolve the host name ${hostname} (DNS lookup failed: ${reason})`,
      fix: `${URL_FIX} If the host name is right, this machine has no working network or DNS.`,
    };
  }
  if (/connection refused|econnrefused|actively refused/i.test(reason)) {
    return {
      message: `cannot reach ${host}: connection refused, nothing listens there (${reason})`,
      fix: networkFix(host),
    };
  }
  if (/certificate|tls|ssl|handshake/i.test(reason)) {
    return { message: `secure connection to ${host} failed: ${reason}`, fix: networkFix(host) };
  }
  return { message: `cannot reach ${host}: ${reason}`, fix: networkFix(host) };
}
