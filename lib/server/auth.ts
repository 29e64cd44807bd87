/**
 * Access keys for the proxy itself. When keys are configured, every request except
 * `GET`/`HEAD /`, `/healthz` and `/readyz` (probes) and CORS preflights must carry
 * `Authorization: Bearer <key>`, or `x-api-key: <key>` as Anthropic clients send it (Claude Code
 * with `ANTHROPIC_API_KEY`, the Anthropic SDKs).
 * Keys are compared through their SHA-256 digests in constant time, so neither the length nor
 * a shared prefix of a key leaks through timing.
 */

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i] ?? 0);
  return diff === 0;
}

/** Checks bearer keys against the configured set. */
export class KeyCheck {
  readonly #digests: Promise<Uint8Array[]>;
  readonly enabled: boolean;

  constructor(keys: readonly string[]) {
    this.enabled = keys.length > 0;
    this.#digests = Promise.all(keys.map(digest));
  }

  /** True when the request needs no key (liveness, preflight) or carries a valid one. */
  async permits(request: Request, path: string): Promise<boolean> {
    if (!this.enabled || request.method === "OPTIONS") return true;
    // Probes, and the status page's static HTML (its data at /ui/data still needs the key).
    const probe = path === "/" || path === "/healthz" || path === "/readyz" || path === "/ui" ||
      path === "/favicon.ico";
    if (probe && (request.method === "GET" || request.method === "HEAD")) return true;
    const header = request.headers.get("authorization") ?? "";
    // Claude Code may send both headers (one from each of its two variables): either may match.
    const keys = [/^Bearer\s+(.+)$/i.exec(header.trim())?.[1], request.headers.get("x-api-key")]
      .map((k) => k?.trim()).filter((k): k is string => !!k);
    let ok = false;
    for (const key of keys) {
      const given = await digest(key);
      for (const d of await this.#digests) ok = equalDigests(given, d) || ok;
    }
    return ok;
  }
}

/** The start-up warning for a proxy reachable beyond this machine without keys, if any. */
export function exposureWarning(host: string, keys: readonly string[]): string | undefined {
  const loopback = host === "localhost" || host === "::1" || /^127\./.test(host);
  if (keys.length > 0 || loopback) return undefined;
  return `!!! listening on ${host} without access keys: anyone who can reach this port can use ` +
    "your Chutes token. Set PROXY_API_KEYS (or api_keys in config.json), or bind to 127.0.0.1.";
}
