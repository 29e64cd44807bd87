/**
 * The upstream client: sends translated requests to one OpenAI-compatible API with the
 * server's token and turns every failure before the body into a `ProxyError` with the status
 * the client should see (the upstream's own status and message for HTTP errors, 502 when it
 * cannot be reached, 504 when it does not answer in time). Transient failures are retried here,
 * before any byte reaches the client, within the request's budget (lib/upstream/retry.ts). The first-byte
 * time-out ends when the headers arrive; the body of a successful answer is then guarded against
 * stalls, shutdown and broken connections instead (lib/upstream/body.ts), so a healthy stream has
 * no total time limit. `fetch`, `sleep` and `random` are injected so retry tests run in
 * milliseconds. The client's abort signal is passed on, so a client that leaves cancels the
 * upstream request.
 */
import { ProxyError, upstreamHttpError } from "../base/errors.ts";
import { PROXY_VERSION } from "../base/version.ts";
import { SHUTDOWN_MESSAGE } from "./idle.ts";
import { type Logger, redact } from "../base/log.ts";
import type { UpstreamModel } from "./wire.ts";
import {
  backoffDelay,
  DEFAULT_RETRY,
  isTransient,
  parseRetryAfter,
  type RetryPolicy,
  sleep,
} from "./retry.ts";
import { GuardedBody } from "./body.ts";

/** What the upstream client needs. */
export interface UpstreamOptions {
  baseUrl: string;
  token: string;
  fetch: typeof fetch;
  log: Logger;
  retry?: RetryPolicy;
  /** Time allowed until response headers (connection included), in milliseconds. */
  firstByteTimeoutMs?: number;
  /** Longest silence allowed between body chunks, in milliseconds. */
  idleTimeoutMs?: number;
  /** Timeout for the model listing, in milliseconds. */
  listTimeoutMs?: number;
  /** Aborted when the proxy's shutdown grace period is over: open streams are cut with an error. */
  shutdown?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** What happened upstream for one request, for the access log. */
export interface UpstreamTrace {
  attempts: number;
  status?: number;
  invocationId?: string;
}

const MAX_ERROR_BODY = 64 * 1024;

async function readErrorBody(res: Response): Promise<string> {
  try {
    const text = await res.text();
    return text.length > MAX_ERROR_BODY ? text.slice(0, MAX_ERROR_BODY) : text;
  } catch {
    return "";
  }
}

/** Client for one OpenAI-compatible upstream. */
export class Upstream {
  readonly #o: UpstreamOptions;

  constructor(options: UpstreamOptions) {
    this.#o = options;
  }

  get baseUrl(): string {
    return this.#o.baseUrl;
  }

  #headers(accept: string): Headers {
    const headers = new Headers({
      "content-type": "application/json",
      accept,
      "user-agent": `ollama-chutes-proxy/${PROXY_VERSION}`,
    });
    // An extra upstream without a token (a local vLLM, say) gets no Authorization header.
    if (this.#o.token) headers.set("authorization", `Bearer ${this.#o.token}`);
    return headers;
  }

  /**
   * Fetches `path`; `timeoutMs` bounds the time until the headers (and an error body), or with
   * `wholeBody` also the reading of the body (the model listing).
   */
  async #fetch(
    path: string,
    init: RequestInit,
    timeoutMs: number | undefined,
    trace?: UpstreamTrace,
    wholeBody = false,
  ): Promise<Response> {
    if (wholeBody || !timeoutMs) {
      const timeout = timeoutMs ? AbortSignal.timeout(timeoutMs) : new AbortController().signal;
      return await this.#send(path, init, timeoutMs, timeout, trace);
    }
    // A timer cleared with the headers: `AbortSignal.timeout` would also cut a long healthy body.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      return await this.#send(path, init, timeoutMs, deadline.signal, trace);
    } finally {
      clearTimeout(timer);
    }
  }

  async #send(
    path: string,
    init: RequestInit,
    timeoutMs: number | undefined,
    timeout: AbortSignal,
    trace?: UpstreamTrace,
  ): Promise<Response> {
    const url = `${this.#o.baseUrl}${path}`;
    const shutdown = this.#o.shutdown;
    const signals = [init.signal, timeout, shutdown].filter((s): s is AbortSignal => !!s);
    const signal = AbortSignal.any(signals);
    let res: Response;
    try {
      res = await this.#o.fetch(url, { ...init, signal });
    } catch (err) {
      if (shutdown?.aborted) throw new ProxyError(503, SHUTDOWN_MESSAGE);
      if (timeout.aborted) {
        const seconds = timeoutMs! / 1000;
        throw new ProxyError(
          504,
          `the upstream at ${this.#o.baseUrl} did not answer within ${seconds} s`,
          true,
        );
      }
      if (init.signal?.aborted) throw new ProxyError(499, "request canceled");
      const reason = err instanceof Error ? err.message : String(err);
      throw new ProxyError(502, `cannot reach the upstream at ${this.#o.baseUrl}: ${reason}`, true);
    }
    if (trace) {
      trace.status = res.status;
      const id = res.headers.get("x-chutes-invocationid");
      if (id) trace.invocationId = id;
    }
    if (!res.ok) {
      const body = await readErrorBody(res);
      this.#o.log.debug(`upstream ${path} → ${res.status}: ${this.#o.log.excerpt(body)}`);
      // An upstream that echoes the token in an error must not hand it to our client.
      const err = upstreamHttpError(
        res.status,
        this.#o.token ? redact(body, [this.#o.token]) : body,
      );
      err.retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), Date.now());
      throw err;
    }
    return res;
  }

  /**
   * POSTs a JSON body and returns the (2xx) answer, retrying transient failures within the
   * budget. The returned body ends with a bare error line if the upstream stalls.
   */
  async post(
    path: string,
    body: unknown,
    signal: AbortSignal,
    trace: UpstreamTrace = { attempts: 0 },
  ): Promise<Response> {
    const text = JSON.stringify(body);
    if (this.#o.log.debugEnabled) {
      this.#o.log.debug(`upstream POST ${path} ${this.#o.log.excerpt(text)}`);
    }
    const policy = this.#o.retry ?? DEFAULT_RETRY;
    const wait = this.#o.sleep ?? sleep;
    let waited = 0;
    for (let attempt = 1;; attempt++) {
      trace.attempts = attempt;
      try {
        const init = {
          method: "POST",
          headers: this.#headers("text/event-stream"),
          body: text,
          signal,
        };
        const res = await this.#fetch(path, init, this.#o.firstByteTimeoutMs, trace);
        return this.#guarded(res);
      } catch (err) {
        if (!(err instanceof ProxyError) || !isTransient(err) || attempt >= policy.attempts) {
          throw err;
        }
        const delay = backoffDelay(
          attempt,
          policy,
          this.#o.random ?? Math.random,
          err.retryAfterMs,
        );
        if (waited + delay > policy.maxWaitMs) throw err;
        this.#o.log.warn(
          `upstream ${path} attempt ${attempt} failed (${err.status}: ${err.message}); retrying in ${delay} ms`,
        );
        await wait(delay, signal);
        waited += delay;
      }
    }
  }

  #guarded(res: Response): Response {
    if (!res.body) return res;
    const body = new GuardedBody(res.body, {
      idleMs: this.#o.idleTimeoutMs,
      shutdown: this.#o.shutdown,
    });
    return new Response(body, { status: res.status, headers: res.headers });
  }

  /** Lists the upstream's models (`GET /models`). */
  async listModels(): Promise<UpstreamModel[]> {
    const init = { headers: this.#headers("application/json") };
    const res = await this.#fetch(
      "/models",
      init,
      this.#o.listTimeoutMs ?? 15_000,
      undefined,
      true,
    );
    const json = await res.json().catch(() => undefined) as { data?: unknown } | undefined;
    if (!json || !Array.isArray(json.data)) {
      throw new ProxyError(502, "upstream /models answer has no data array");
    }
    return json.data.filter((m): m is UpstreamModel =>
      m !== null && typeof m === "object" && typeof (m as UpstreamModel).id === "string"
    );
  }
}
