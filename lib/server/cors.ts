/**
 * Browser origins, by Ollama's rules (gin-contrib/cors as Ollama configures it): localhost,
 * 127.0.0.1 and 0.0.0.0 on any port and the `app://`, `file://`, `tauri://`, `vscode-webview://`,
 * `vscode-file://` schemes are allowed by default; `OLLAMA_ORIGINS` adds patterns (`*` wildcards,
 * a lone `*` allows all). A request without `Origin`, or whose Origin is exactly the server's own
 * origin (`http://` or `https://` plus the `Host` header, port included), is not CORS: a page on
 * another port of the same host name is another origin. A disallowed origin gets 403 with an empty body; a preflight from an allowed one
 * gets 204 with the methods and headers clients send (the OpenAI SDK's `X-Stainless-*` too).
 */

/** Ollama's default allowed origins. */
export const DEFAULT_ORIGINS: readonly string[] = [
  ...["localhost", "127.0.0.1", "0.0.0.0"].flatMap((host) => [
    `http://${host}`,
    `https://${host}`,
    `http://${host}:*`,
    `https://${host}:*`,
  ]),
  "app://*",
  "file://*",
  "tauri://*",
  "vscode-webview://*",
  "vscode-file://*",
];

const ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS";
const ALLOW_HEADERS = [
  "Authorization",
  "Content-Type",
  "User-Agent",
  "Accept",
  "X-Requested-With",
  "Openai-Beta",
  "X-Stainless-Arch",
  "X-Stainless-Async",
  "X-Stainless-Custom-Poll-Interval",
  "X-Stainless-Helper-Method",
  "X-Stainless-Lang",
  "X-Stainless-Os",
  "X-Stainless-Package-Version",
  "X-Stainless-Poll-Helper",
  "X-Stainless-Retry-Count",
  "X-Stainless-Runtime",
  "X-Stainless-Runtime-Version",
  "X-Stainless-Timeout",
].join(","); // deno-fmt-ignore

/** The verdict for one request. */
export type CorsVerdict =
  | { kind: "none" }
  | { kind: "forbidden" }
  | { kind: "preflight"; headers: Headers }
  | { kind: "allowed"; headers: Headers };

function toRegExp(pattern: string): RegExp {
  const body = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`, "i");
}

/** True when `origin` is `http://<host>` or `https://<host>` (default ports normalised). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    if (o.protocol !== "http:" && o.protocol !== "https:") return false;
    return o.origin === new URL(`${o.protocol}//${host}`).origin;
  } catch {
    return false;
  }
}

/** Decides CORS for requests, given the extra origins from `OLLAMA_ORIGINS` / config. */
export class CorsPolicy {
  readonly #any: boolean;
  readonly #patterns: RegExp[];

  constructor(extraOrigins: readonly string[]) {
    const all = [...DEFAULT_ORIGINS, ...extraOrigins.map((o) => o.trim()).filter((o) => o !== "")];
    this.#any = all.includes("*");
    this.#patterns = all.map(toRegExp);
  }

  /** True when `origin` may call the API from a browser. */
  allows(origin: string): boolean {
    return this.#any || this.#patterns.some((r) => r.test(origin));
  }

  /** Classifies a request and builds the headers an allowed one needs. */
  check(request: Request): CorsVerdict {
    const origin = request.headers.get("origin");
    if (!origin) return { kind: "none" };
    // Only the exact scheme://host:port is the same origin (gin-contrib/cors, as Ollama uses it).
    const host = request.headers.get("host");
    if (host && sameOrigin(origin, host)) return { kind: "none" };
    if (!this.allows(origin)) return { kind: "forbidden" };
    const headers = new Headers({
      "access-control-allow-origin": this.#any ? "*" : origin,
      vary: "Origin",
    });
    if (request.method !== "OPTIONS") return { kind: "allowed", headers };
    headers.set("access-control-allow-methods", ALLOW_METHODS);
    headers.set("access-control-allow-headers", ALLOW_HEADERS);
    headers.set("access-control-max-age", "43200");
    headers.set("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    return { kind: "preflight", headers };
  }
}
