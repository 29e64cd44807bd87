/**
 * Access keys for the proxy itself. When keys are configured, every request except
 * `GET`/`HEAD /`, `/healthz` and `/readyz` (probes) and CORS preflights must carry
 * `Authorization: Bearer <key>`.
 * Keys are compared through their SHA-256 digests in constant time, so neither the length nor
 * a shared prefix of a key leaks through timing.
 */
import { isLoopbackHost } from "./host.ts";

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
    const probe = path === "/" || path === "/healthz" || path === "/readyz" || path === "/ui";
    if (probe && (request.method === "GET" || request.method === "HEAD")) return true;
    const header = request.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) return false;
    const given = await digest(m[1]!.trim());
    let ok = false;
    for (const d of await this.#digests) ok = equalDigests(given, d) || ok;
    return ok;
  }
}

/** The start-up warning for a proxy reachable beyond this machine without keys, if any. */
export function exposureWarning(host: string, keys: readonly string[]): string | undefined {
  if (keys.length > 0 || isLoopbackHost(host)) return undefined;
  return `!!! listening on ${host} without access keys: anyone who can reach this port can use ` +
    "your Chutes token. Set PROXY_API_KEYS (or api_keys in config.json), or bind to 127.0.0.1.";
}
