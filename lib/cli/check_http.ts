/**
 * The HTTP side of `--check`: one call with a time-out that answers the status and body or the
 * problem (DNS, refused connection, time-out, TLS) with its fix, the request headers (the
 * token as a bearer), and the upstream's message from an error body.
 */
import { type Config, DEFAULT_BASE_URL } from "../config/config.ts";
import { upstreamErrorMessage } from "../base/errors.ts";
import { PROXY_VERSION } from "../base/version.ts";

/** What the check may replace: `fetch` (tests) and the time allowed for each call. */
export interface CheckOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Redacts an upstream text as it arrives, before anything cuts it. */
  clean?: (text: string) => string;
}

/** The fix for a wrong base URL. */
export const URL_FIX =
  'Set CHUTES_BASE_URL (or "base_url" in config.json) to the OpenAI-compatible ' +
  `API root; for Chutes it is ${DEFAULT_BASE_URL} (the default: remove the setting to use it).`;

export const networkFix = (host: string) =>
  `Check that this machine is online and can reach ${host} (firewall, VPN or HTTP proxy in the ` +
  `way?). If the address is wrong: base_url should look like ${DEFAULT_BASE_URL}.`;

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

export type Problem = { message: string; fix: string };

export async function send(
  url: string,
  init: RequestInit,
  o: Required<Omit<CheckOptions, "clean">> & Pick<CheckOptions, "clean">,
): Promise<HttpAnswer | Problem> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  try {
    const res = await o.fetch(url, { ...init, signal });
    const contentType = res.headers.get("content-type") ?? "";
    const text = await res.text();
    return { status: res.status, contentType, text: o.clean ? o.clean(text) : text };
  } catch (err) {
    return networkProblem(url, err, signal.aborted ? o.timeoutMs : undefined);
  }
}

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

export function headers(config: Config, accept: string): Headers {
  return new Headers({
    accept,
    "content-type": "application/json",
    "user-agent": `ollama-chutes-proxy/${PROXY_VERSION} (check)`,
    authorization: `Bearer ${config.api_token}`,
  });
}

/** `: <upstream message>` for an error answer, or nothing for an empty or HTML body. */
export function said(answer: HttpAnswer): string {
  if (/html/i.test(answer.contentType)) return "";
  const message = upstreamErrorMessage(answer.text);
  if (message === "") return "";
  return `: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`;
}
