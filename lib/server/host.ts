/**
 * The DNS-rebinding guard, by Ollama's rule (its allowed-hosts middleware): a web page can make
 * its own host name resolve to 127.0.0.1 and then call the proxy as a same-origin page, with
 * `Host: evil.example`. So while the proxy is bound to a loopback address, a request is answered
 * only when its `Host` (port ignored) is `localhost`, an IP literal that is loopback, private,
 * link-local or unspecified (an IP is never rebound), this machine's host name, a name ending in
 * `.localhost`, `.local` or `.internal`, or a name listed in `allowed_hosts` (`*.example.com`
 * matches subdomains; a lone `*` turns the guard off). Bound beyond loopback, where access keys
 * guard the proxy, the rule applies only when `allowed_hosts` lists names — or when no access
 * keys are set: a container binds 0.0.0.0 although Docker publishes it on 127.0.0.1 only, and a
 * keyless proxy must not answer a rebinding page there either (a name reached by IP, `.local`
 * or a listed name still passes). A request without `Host` (HTTP/1.0) passes: browsers always
 * send one.
 */

/** True for a bind address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal"];

function ipv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const parts = m?.slice(1).map(Number);
  return parts && parts.every((p) => p <= 255) ? parts : undefined;
}

function localIpv4([a, b]: number[]): boolean {
  return a === 127 || a === 10 || a === 0 || (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) || (a === 169 && b === 254);
}

/** Loopback, private, link-local or unspecified, for an IPv4 or IPv6 literal; else false. */
export function isLocalIp(text: string): boolean {
  const v4 = ipv4(text);
  if (v4) return localIpv4(v4);
  if (!text.includes(":") || !/^[0-9a-f:.]+$/i.test(text)) return false;
  const ip = text.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return localIpv4(ipv4(mapped[1]!) ?? [1]);
  if (ip === "::1" || ip === "::") return true;
  // fc00::/7 (unique local) and fe80::/10 (link-local).
  return /^f[cd][0-9a-f]{0,2}:/.test(ip) || /^fe[89ab][0-9a-f]?:/.test(ip);
}

/** The host name of a `Host` header value: lower case, without port or IPv6 brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") < 0 ? undefined : h.indexOf("]"));
  // `a:b:c` without brackets is a bare IPv6 address; `name:port` has one colon. A trailing dot
  // (`localhost.`) names the same host.
  return (h.split(":").length === 2 ? h.slice(0, h.indexOf(":")) : h).replace(/\.$/, "");
}

/** This machine's host name, when the process may read it without a permission prompt. */
export function machineHostname(): string | undefined {
  try {
    const state = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state;
    return state === "granted" ? Deno.hostname().toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Decides whether a request's `Host` is one this proxy answers to. */
export class HostCheck {
  readonly enabled: boolean;
  readonly #exact = new Set<string>(["localhost"]);
  readonly #suffixes = [...LOCAL_SUFFIXES];

  /** `keyed`: access keys are set (beyond loopback the guard then waits for listed names). */
  constructor(
    bindHost: string,
    allowedHosts: readonly string[],
    hostname?: string,
    keyed = false,
  ) {
    const listed = allowedHosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
    this.enabled = !listed.includes("*") &&
      (isLoopbackHost(bindHost) || listed.length > 0 || !keyed);
    if (hostname) this.#exact.add(hostname.toLowerCase());
    for (const host of listed) {
      if (host.startsWith("*.")) this.#suffixes.push(host.slice(1));
      else this.#exact.add(hostName(host));
    }
  }

  /** True when the request may be answered (no `Host`, or an allowed one, or the guard is off). */
  permits(hostHeader: string | null): boolean {
    if (!this.enabled || hostHeader === null || hostHeader.trim() === "") return true;
    const name = hostName(hostHeader);
    return isLocalIp(name) || this.#exact.has(name) ||
      this.#suffixes.some((suffix) => name.endsWith(suffix));
  }
}
