/**
 * The transport on undici, the HTTP client the Node.js project maintains: one keep-alive pool
 * per upstream origin (at most `MAX_CONNECTIONS` sockets, idle ones closed after a few seconds),
 * each request dispatched with a raw handler. Why undici and not `fetch`: `fetch` sent a POST a
 * second time when the upstream had read it and then reset a reused connection (a duplicate,
 * billable completion), and it hands over each chunk through web streams, which was the main
 * cost per token (bench/README.md). undici fails such a request instead (a non-idempotent
 * request is never retried on another socket), follows no redirect, and hands each network read
 * to `onResponseData`, queued here until the reader asks for it: the socket is paused while more
 * than `HIGH_WATER` bytes wait, so a slow client slows the upstream instead of filling memory.
 * HTTP/1.1 only. Extra certificate authorities (a self-signed local upstream) are added to the
 * usual roots, and `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (either case) route through an HTTP
 * proxy by CONNECT.
 */
import tls from "node:tls";
// First: undici picks up the cheaper `assert` as it loads.
import "./undici_assert.ts";
import * as Undici from "undici";
import {
  type ChunkSource,
  type Transport,
  type TransportAnswer,
  TransportError,
  type TransportRequest,
} from "./transport.ts";
import { onAbort } from "./body.ts";

const { Agent, EnvHttpProxyAgent } = Undici;
type Dispatcher = Undici.Dispatcher;

/** Most open connections to one upstream origin; more requests wait for a free one. */
export const MAX_CONNECTIONS = 1024;
const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;

/** How the undici transport connects. */
export interface UndiciOptions {
  /** PEM certificates trusted beside the usual roots. */
  ca?: string | undefined;
  /** The environment, for the proxy variables (only these are read). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Most connections per origin (default `MAX_CONNECTIONS`). */
  connections?: number;
}

/** The proxy settings in `env`, lowercase names first as curl reads them; empty when none. */
export function proxySettings(
  env: Readonly<Record<string, string | undefined>>,
): { httpProxy?: string; httpsProxy?: string; noProxy?: string } {
  const pick = (name: string) => env[name] || env[name.toUpperCase()] || undefined;
  const out: { httpProxy?: string; httpsProxy?: string; noProxy?: string } = {};
  const http = pick("http_proxy");
  const https = pick("https_proxy");
  if (http) out.httpProxy = http;
  if (https) out.httpsProxy = https;
  if (http || https) out.noProxy = pick("no_proxy") ?? "";
  return out;
}

/** Creates the undici transport. */
export function undiciTransport(options: UndiciOptions = {}): Transport {
  const tlsOptions = options.ca ? { secureContext: withAuthorities(options.ca) } : undefined;
  const agentOptions: Undici.Agent.Options = {
    connections: options.connections ?? MAX_CONNECTIONS,
    // HTTP/1.1 only: each request is then one connection's whole exchange, the case whose
    // exactly-once sending the tests prove (undici would otherwise take HTTP/2 where the
    // upstream offers it, over Deno's `node:http2`).
    allowH2: false,
    // The client's own budget and idle watch time the answer; undici's would cut long streams.
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(tlsOptions ? { connect: tlsOptions } : {}),
  };
  const proxy = proxySettings(options.env ?? {});
  const dispatcher: Dispatcher = proxy.noProxy === undefined
    ? new Agent(agentOptions)
    : new EnvHttpProxyAgent({
      ...agentOptions,
      // Empty, not absent: undici would read the process environment for a missing one.
      httpProxy: proxy.httpProxy ?? "",
      httpsProxy: proxy.httpsProxy ?? "",
      noProxy: proxy.noProxy,
      // Plain-HTTP upstreams are tunnelled too, so the proxy only has to speak CONNECT.
      proxyTunnel: true,
      ...(tlsOptions ? { requestTls: tlsOptions } : {}),
    });
  return {
    send: (request) => new Exchange(dispatcher, request).head,
    close: () => dispatcher.destroy(),
  };
}

/**
 * A TLS context that trusts the usual roots and the certificates of `pem` besides. (The `ca`
 * option would replace the roots, so Chutes would stop verifying; reading the roots to pass them
 * along needs the `--allow-sys` permission.)
 */
function withAuthorities(pem: string): tls.SecureContext {
  const context = tls.createSecureContext();
  (context as unknown as { context: { addCACert(pem: string): void } }).context.addCACert(pem);
  return context;
}

type Controller = Undici.Dispatcher.DispatchController;

/** One request and its answer: the undici handler, and the answer body's `ChunkSource`. */
class Exchange implements Undici.Dispatcher.DispatchHandler, ChunkSource {
  readonly head: Promise<TransportAnswer>;
  #resolveHead!: (answer: TransportAnswer) => void;
  #rejectHead!: (err: unknown) => void;
  #headDone = false;
  #controller: Controller | undefined;
  /** Set when a signal aborted or the reader cancelled: the reason undici is given. */
  #abortReason: Error | undefined;
  #forget: (() => void)[] = [];
  /** Set once the request started to go out. */
  #started = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #waiting:
    | { resolve: (chunk: Uint8Array | undefined) => void; reject: (e: unknown) => void }
    | undefined;
  #ended = false;
  #error: unknown;

  constructor(dispatcher: Dispatcher, request: TransportRequest) {
    this.head = new Promise((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    for (const signal of request.signals) {
      if (signal.aborted) {
        this.#fail(signal.reason);
        return;
      }
      this.#forget.push(onAbort(signal, () => this.#abort(signal.reason)));
    }
    const url = request.url;
    dispatcher.dispatch({
      origin: url.origin,
      path: url.pathname + url.search,
      method: request.method,
      headers: request.headers,
      body: request.body ?? null,
    }, this);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
    else this.#started = true;
  }

  onResponseStart(
    _c: Controller,
    status: number,
    raw: Record<string, string | string[] | undefined>,
  ) {
    if (status < 200) return; // 100 Continue and the like
    const headers = new Headers();
    for (const [name, value] of Object.entries(raw)) {
      if (Array.isArray(value)) { for (const v of value) headers.append(name, v); }
      else if (value !== undefined) headers.append(name, value);
    }
    this.#headDone = true;
    this.#resolveHead({ status, headers, body: this });
  }

  onResponseData(controller: Controller, chunk: Uint8Array): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      return waiting.resolve(chunk);
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > HIGH_WATER && !controller.paused) controller.pause();
  }

  onResponseEnd(): void {
    this.#ended = true;
    this.#finish();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(undefined);
  }

  onResponseError(_c: Controller, err: Error): void {
    this.#fail(this.#abortReason ?? err);
  }

  read(): Promise<Uint8Array | undefined> {
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#queued -= chunk.length;
      const controller = this.#controller;
      if (controller?.paused && this.#queued < LOW_WATER) controller.resume();
      return Promise.resolve(chunk);
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => this.#waiting = { resolve, reject });
  }

  cancel(reason?: unknown): void {
    this.#queue = [];
    this.#queued = 0;
    if (!this.#ended && this.#error === undefined) {
      this.#abort(reason instanceof Error ? reason : new Error("the reader cancelled the body"));
    }
  }

  #abort(reason: unknown): void {
    if (this.#abortReason || this.#ended || this.#error !== undefined) return;
    this.#abortReason = reason instanceof Error ? reason : new Error(String(reason));
    // Before the request started, undici aborts it in `onRequestStart`; settle now all the same.
    this.#controller?.abort(this.#abortReason);
    this.#fail(this.#abortReason);
  }

  #fail(err: unknown): void {
    if (this.#ended || this.#error !== undefined) return;
    this.#finish();
    if (!this.#headDone) {
      this.#headDone = true;
      this.#error = err;
      const known = err === this.#abortReason;
      const message = err instanceof Error ? describe(err) : String(err);
      return this.#rejectHead(known ? err : new TransportError(message, this.#started));
    }
    this.#error = err;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(err);
  }

  #finish(): void {
    for (const forget of this.#forget) forget();
    this.#forget = [];
  }
}

/** undici's message, with the system error code when there is one (`ECONNREFUSED`). */
function describe(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = (err as { code?: unknown }).code ??
    (cause instanceof Error ? (cause as { code?: unknown }).code : undefined);
  const detail = cause instanceof Error && cause.message !== err.message
    ? `: ${cause.message}`
    : "";
  return typeof code === "string" && !err.message.includes(code)
    ? `${err.message}${detail} (${code})`
    : `${err.message}${detail}`;
}
