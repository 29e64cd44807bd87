/**
 * Access keys for the proxy itself. When keys are configured, every request except
 * `GET`/`HEAD /`, `/healthz` and `/readyz` (probes) and CORS preflights must carry
 * `Authorization: Bearer <key>`, or `x-api-key: <key>` as Anthropic clients send it (Claude Code
 * with `ANTHROPIC_API_KEY`, the Anthropic SDKs).
 * Keys are compared through their SHA-256 digests in constant time, so neither the length nor
 * a shared prefix of a key leaks through timing. Keys shorter than 16 characters are refused at
 * start-up (lib/config/values.ts). A wrong key costs its source address a growing delay before
 * the 401 — 100 ms, doubling to 5 s, forgotten after a minute without failures — so guessing
 * from one address runs at a few tries a second at most instead of thousands; at most 10,000
 * addresses are remembered, the least recently failing forgotten first.
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

/** The delay after a wrong key, by failures from the same address. */
export const FAILURE_DELAY = { firstMs: 100, maxMs: 5000, forgetMs: 60_000, addresses: 10_000 };

/** Failed key checks per source address, for the growing delay; bounded in size. */
export class FailureDelays {
  readonly #byAddress = new Map<string, { failures: number; lastAt: number }>();

  constructor(readonly now: () => number = () => performance.now()) {}

  /** Counts a failure from `address` and returns how long to wait before answering it. */
  fail(address: string): number {
    const now = this.now();
    const seen = this.#byAddress.get(address);
    const fresh = seen && now - seen.lastAt < FAILURE_DELAY.forgetMs;
    const failures = fresh ? seen.failures + 1 : 1;
    this.#byAddress.delete(address); // re-inserted last: the map stays in order of last failure
    this.#byAddress.set(address, { failures, lastAt: now });
    if (this.#byAddress.size > FAILURE_DELAY.addresses) {
      this.#byAddress.delete(this.#byAddress.keys().next().value!);
    }
    return Math.min(FAILURE_DELAY.firstMs * 2 ** Math.min(failures - 1, 16), FAILURE_DELAY.maxMs);
  }

  /** How many addresses are remembered. */
  get size(): number {
    return this.#byAddress.size;
  }
}

/** Waits `ms`, or less when `signal` aborts (a client that left needs no answer). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Checks bearer keys against the configured set. */
export class KeyCheck {
  readonly #digests: Promise<Uint8Array[]>;
  readonly #delays: FailureDelays;
  readonly #wait: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly enabled: boolean;

  constructor(
    keys: readonly string[],
    options: { wait?: (ms: number, signal?: AbortSignal) => Promise<void>; now?: () => number } =
      {},
  ) {
    this.enabled = keys.length > 0;
    this.#digests = Promise.all(keys.map(digest));
    this.#delays = new FailureDelays(options.now);
    this.#wait = options.wait ?? pause;
  }

  /** True when the request needs no key (liveness, preflight) or carries a valid one. */
  async permits(request: Request, path: string, address = "unknown"): Promise<boolean> {
    return (await this.admit(request, path, address)).ok;
  }

  /**
   * Whether the request may pass, and the configured key it carried (for its name in logs and
   * usage: the key that matched, never another header's value). A wrong or missing key is
   * refused after the delay its source `address` has earned.
   */
  async admit(
    request: Request,
    path: string,
    address = "unknown",
  ): Promise<{ ok: boolean; key?: string }> {
    if (!this.enabled || request.method === "OPTIONS") return { ok: true };
    // Probes, and the status page's static HTML (its data at /ui/data still needs the key).
    const probe = path === "/" || path === "/healthz" || path === "/readyz" || path === "/ui" ||
      path === "/favicon.ico";
    if (probe && (request.method === "GET" || request.method === "HEAD")) return { ok: true };
    const header = request.headers.get("authorization") ?? "";
    // Claude Code may send both headers (one from each of its two variables): either may match.
    const keys = [/^Bearer\s+(.+)$/i.exec(header.trim())?.[1], request.headers.get("x-api-key")]
      .map((k) => k?.trim()).filter((k): k is string => !!k);
    let matched: string | undefined;
    for (const key of keys) {
      const given = await digest(key);
      let ok = false;
      for (const d of await this.#digests) ok = equalDigests(given, d) || ok;
      if (ok) matched ??= key;
    }
    if (matched === undefined) {
      await this.#wait(this.#delays.fail(address), request.signal);
      return { ok: false };
    }
    return { ok: true, key: matched };
  }
}

/** The start-up warning for a proxy reachable beyond this machine without keys, if any. */
export function exposureWarning(host: string, keys: readonly string[]): string | undefined {
  if (keys.length > 0 || isLoopbackHost(host)) return undefined;
  return `!!! listening on ${host} without access keys: anyone who can reach this port can use ` +
    "your Chutes token. Set PROXY_API_KEYS (or api_keys in config.json), or bind to 127.0.0.1.";
}
