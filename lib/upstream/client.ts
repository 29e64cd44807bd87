/**
 * The upstream client: sends translated requests to one OpenAI-compatible API with the server's
 * token and turns every failure before the body into a `ProxyError` with the status the client
 * should see (the upstream's own status and message for HTTP errors, 502 when it cannot be
 * reached, redirects, or drops the connection after taking the request, 504 when it does not
 * answer in time). Transient failures are retried here, before any byte reaches the client
 * (lib/upstream/retry.ts), but never a request that may have reached the upstream: the transport
 * sends each request at most once (lib/upstream/transport.ts). One first-byte budget covers
 * every attempt and every wait between them; once the headers arrive the body is guarded against
 * stalls, shutdown and broken connections instead (lib/upstream/body.ts), so a healthy stream
 * has no total time limit. Every message built from upstream text is redacted of every secret
 * before it is cut short. `sleep`, `random` and `now` are injected so retry tests run in
 * milliseconds; the client's abort signal is passed on, so a client that leaves cancels the
 * upstream request.
 */
import { ProxyError } from "../base/errors.ts";
import { PROXY_VERSION } from "../base/version.ts";
import { SHUTDOWN_MESSAGE } from "./idle.ts";
import type { Logger } from "../base/log.ts";
import type { UpstreamModel } from "./wire.ts";
import {
  backoffDelay,
  DEFAULT_RETRY,
  isTransient,
  NotRetriable,
  type RetryPolicy,
  sleep,
} from "./retry.ts";
import { GuardedBody } from "./body.ts";
import { type Transport, type TransportAnswer, TransportError } from "./transport.ts";
import { errorFromAnswer, parseListing, readCapped, Secrets } from "./answers.ts";

/** What the upstream client needs. */
export interface UpstreamOptions {
  baseUrl: string;
  token: string;
  transport: Transport;
  log: Logger;
  /** Every secret of the proxy (tokens, access keys), kept out of messages from upstream text. */
  secrets?: readonly string[];
  retry?: RetryPolicy;
  /** Time allowed until response headers, for all attempts and the waits between, in ms. */
  firstByteTimeoutMs?: number;
  /** Longest silence allowed between body chunks, in milliseconds. */
  idleTimeoutMs?: number;
  /** Timeout for the model listing, in milliseconds. */
  listTimeoutMs?: number;
  /** Aborted when the proxy's shutdown grace period is over: open streams are cut with an error. */
  shutdown?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What happened upstream for one request, for the access log. */
export interface UpstreamTrace {
  attempts: number;
  status?: number;
  invocationId?: string;
  /**
   * When the request's first-byte budget runs out (a `now()` time): set by its first call, so
   * fallbacks that pass the same trace share the one budget.
   */
  firstByteDeadline?: number;
}

/** Largest model listing read (Chutes' is about 100 KiB); a larger one keeps the last list. */
export const MAX_LISTING_BYTES = 8 * 1024 * 1024;

/** The reason a deadline aborts with (the message is built where it is caught). */
class Deadline extends Error {}

/** One attempt of one request. */
interface Attempt {
  method: "GET" | "POST";
  path: string;
  body?: string;
  /** The caller's signal: a client that leaves, the listing's time-out. */
  signal?: AbortSignal;
  /** When the first-byte budget runs out (a `now()` time), and the budget in all. */
  deadline?: number | undefined;
  budgetMs?: number | undefined;
  attempt: number;
}

/** Client for one OpenAI-compatible upstream. */
export class Upstream {
  readonly #o: UpstreamOptions;
  readonly #secrets: Secrets;
  #lost = 0;

  constructor(options: UpstreamOptions) {
    this.#o = options;
    this.#secrets = new Secrets([options.token, ...options.secrets ?? []]);
  }

  get baseUrl(): string {
    return this.#o.baseUrl;
  }

  /** Requests whose connection failed after they went out (never re-sent): for the status page. */
  get connectionsLost(): number {
    return this.#lost;
  }

  #headers(accept: string): Record<string, string> {
    const headers: Record<string, string> = {
      accept,
      "user-agent": `ollama-chutes-proxy/${PROXY_VERSION}`,
    };
    if (accept === "text/event-stream") headers["content-type"] = "application/json";
    // An extra upstream without a token (a local vLLM, say) gets no Authorization header.
    if (this.#o.token) headers.authorization = `Bearer ${this.#o.token}`;
    return headers;
  }

  /**
   * Sends one request and waits for its head until `deadline` (a `now()` time, for the budget
   * of `budgetMs` in all); a failure before the head becomes a `ProxyError`.
   */
  async #send(r: Attempt): Promise<TransportAnswer> {
    if (r.deadline !== undefined && r.deadline <= this.#now()) throw this.#timedOut(r);
    const timer = new AbortController();
    const shutdown = this.#o.shutdown;
    const signals = [timer.signal];
    if (r.signal) signals.push(r.signal);
    if (shutdown) signals.push(shutdown);
    const id = r.deadline === undefined
      ? undefined
      : setTimeout(() => timer.abort(new Deadline()), Math.max(0, r.deadline - this.#now()));
    try {
      return await this.#o.transport.send({
        method: r.method,
        url: new URL(`${this.#o.baseUrl}${r.path}`),
        headers: this.#headers(r.body === undefined ? "application/json" : "text/event-stream"),
        ...(r.body === undefined ? {} : { body: r.body }),
        signals,
      });
    } catch (err) {
      throw this.#failure(err, r, timer.signal);
    } finally {
      clearTimeout(id);
    }
  }

  /** The `ProxyError` for a request that failed before its head. */
  #failure(err: unknown, r: Attempt, timer: AbortSignal): ProxyError {
    if (this.#o.shutdown?.aborted) return new ProxyError(503, SHUTDOWN_MESSAGE);
    if (r.signal?.aborted) return new ProxyError(499, "request canceled");
    const base = this.#o.baseUrl;
    if (timer.aborted) return this.#timedOut(r);
    const reason = this.#secrets.redact(err instanceof Error ? err.message : String(err));
    if (err instanceof TransportError && err.sent) {
      this.#lost++;
      this.#o.log.warn(
        `upstream ${r.path}: the connection failed after the request went out (${reason}); ` +
          `not sent again (${this.#lost} so far)`,
      );
      return new NotRetriable(
        502,
        `the upstream at ${base} dropped the connection after receiving the request ` +
          `(${reason}); it was not sent again, as the upstream may have processed it`,
      );
    }
    return new ProxyError(502, `cannot reach the upstream at ${base}: ${reason}`, true);
  }

  /** Throws the `ProxyError` for a non-2xx answer (a redirect, an HTTP error). */
  async #check(answer: TransportAnswer, path: string): Promise<void> {
    if (answer.status >= 200 && answer.status < 300) return;
    throw await errorFromAnswer(answer, this.#o.baseUrl, path, this.#secrets, this.#o.log);
  }

  /** The 504 for a spent first-byte budget: true however many attempts and fallbacks it took. */
  #timedOut(r: Attempt): ProxyError {
    const tries = r.attempt > 1 ? ` (${r.attempt} attempts)` : "";
    return new ProxyError(
      504,
      `the upstream at ${this.#o.baseUrl} did not answer within ${r.budgetMs! / 1000} s${tries}`,
      true,
    );
  }

  #now(): number {
    return (this.#o.now ?? performance.now.bind(performance))();
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
    const budgetMs = this.#o.firstByteTimeoutMs || undefined;
    if (budgetMs !== undefined) trace.firstByteDeadline ??= this.#now() + budgetMs;
    const deadline = trace.firstByteDeadline;
    let waited = 0;
    for (let attempt = 1;; attempt++) {
      trace.attempts = attempt;
      try {
        const answer = await this.#send({
          method: "POST",
          path,
          body: text,
          signal,
          deadline,
          budgetMs,
          attempt,
        });
        this.#traced(answer, trace);
        await this.#check(answer, path);
        return this.#guarded(answer);
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
        const left = deadline === undefined ? Infinity : deadline - this.#now();
        if (waited + delay > policy.maxWaitMs || delay >= left) throw err;
        this.#o.log.warn(
          `upstream ${path} attempt ${attempt} failed (${err.status}: ${err.message}); retrying in ${delay} ms`,
        );
        await wait(delay, signal);
        waited += delay;
      }
    }
  }

  #traced(answer: TransportAnswer, trace: UpstreamTrace): void {
    trace.status = answer.status;
    const id = answer.headers.get("x-chutes-invocationid");
    if (id) trace.invocationId = id;
  }

  #guarded(answer: TransportAnswer): Response {
    if (answer.status === 204 || answer.status === 205) {
      // A body is not allowed with these; an answer without one ends the stream as it is.
      answer.body.cancel();
      return new Response(null, { status: answer.status, headers: answer.headers });
    }
    const body = new GuardedBody(answer.body, {
      idleMs: this.#o.idleTimeoutMs,
      shutdown: this.#o.shutdown,
    });
    return new Response(body, { status: answer.status, headers: answer.headers });
  }

  /** Lists the upstream's models (`GET /models`); a listing over `MAX_LISTING_BYTES` fails. */
  async listModels(): Promise<UpstreamModel[]> {
    const timeoutMs = this.#o.listTimeoutMs ?? 15_000;
    const timer = new AbortController();
    const id = setTimeout(() => timer.abort(new Deadline()), timeoutMs);
    let text: string;
    try {
      const answer = await this.#send({
        method: "GET",
        path: "/models",
        signal: timer.signal,
        attempt: 1,
      });
      await this.#check(answer, "/models");
      const length = Number(answer.headers.get("content-length")) || 0;
      text = await readCapped(answer.body, MAX_LISTING_BYTES, "the upstream /models answer", {
        contentLength: length,
      });
    } catch (err) {
      if (timer.signal.aborted) {
        throw new ProxyError(
          504,
          `the upstream at ${this.#o.baseUrl} did not list its models within ${timeoutMs / 1000} s`,
        );
      }
      if (err instanceof ProxyError) throw err;
      const reason = this.#secrets.redact(err instanceof Error ? err.message : String(err));
      throw new ProxyError(502, `the upstream /models answer broke off: ${reason}`);
    } finally {
      clearTimeout(id);
    }
    return parseListing(text);
  }
}
