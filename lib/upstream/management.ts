/**
 * The client for Chutes' management API (`https://api.chutes.ai` by default, `management_base_url`):
 * the account endpoints (subscription usage, quotas, quota usage, balance), the public
 * utilisation list and the warm-up stream. Unlike the chat client it never retries, never
 * follows a redirect, caps every body it reads, and never throws: each call answers either the
 * parsed JSON or the reason it failed (HTTP status with the upstream's message, time-out,
 * network error, not JSON), because a failing account endpoint must only ever show up on the
 * status page, never in a chat answer. The token is sent only to the endpoints that need it.
 */
import { upstreamErrorMessage } from "../base/errors.ts";
import { PROXY_VERSION } from "../base/version.ts";
import { SseDecoder } from "./sse.ts";

/** What one management call answered. */
export type ApiAnswer =
  | { ok: true; status: number; json: unknown }
  | { ok: false; status: number | undefined; reason: string };

/** What the management client needs. */
export interface ManagementOptions {
  baseUrl: string;
  token: string;
  fetch: typeof fetch;
  /** Time allowed for one call, body included (default 10 s). */
  timeoutMs?: number;
  /** Largest body read (default 8 MiB: the utilisation list is ~0.5 MB). */
  maxBodyBytes?: number;
}

/** One warm-up status line from `GET /chutes/warmup/{name}`: `hot`, `warming` or `cold`. */
export interface WarmupEvent {
  status: string;
  log: string;
}

async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return new TextDecoder().decode(all);
}

/** The reason a call could not be made, without the URL's query or any header. */
export function fetchFailure(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs / 1000} s`;
  const cause = (err as { cause?: unknown })?.cause;
  const message = cause instanceof Error ? cause.message : (err as Error)?.message ?? String(err);
  return `cannot reach the management API: ${
    message.replace(/^error sending request for url \([^)]*\): /, "")
  }`;
}

/** Client for the Chutes management API. */
export class ManagementApi {
  readonly #o: Required<ManagementOptions>;

  constructor(options: ManagementOptions) {
    this.#o = { timeoutMs: 10_000, maxBodyBytes: 8 * 1024 * 1024, ...options };
  }

  /** The API root, e.g. `https://api.chutes.ai`. */
  get baseUrl(): string {
    return this.#o.baseUrl;
  }

  #headers(auth: boolean, accept = "application/json"): Headers {
    const headers = new Headers({ accept, "user-agent": `ollama-chutes-proxy/${PROXY_VERSION}` });
    if (auth) headers.set("authorization", `Bearer ${this.#o.token}`);
    return headers;
  }

  /** `GET <path>` with the token (`auth`) or without it; never throws. */
  async get(path: string, options: { auth?: boolean; signal?: AbortSignal } = {}): Promise<
    ApiAnswer
  > {
    const timeout = AbortSignal.timeout(this.#o.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      const res = await this.#o.fetch(`${this.#o.baseUrl}${path}`, {
        headers: this.#headers(options.auth ?? true),
        redirect: "manual",
        signal,
      });
      const text = await readCapped(res, this.#o.maxBodyBytes);
      if (text === undefined) {
        return {
          ok: false,
          status: res.status,
          reason: `the answer is larger than ${this.#o.maxBodyBytes} bytes`,
        };
      }
      if (res.status >= 300 && res.status < 400) {
        const where = res.headers.get("location") ?? "nowhere";
        return {
          ok: false,
          status: res.status,
          reason: `HTTP ${res.status}: redirect to ${where}`,
        };
      }
      if (!res.ok) {
        const said = /html/i.test(res.headers.get("content-type") ?? "")
          ? ""
          : upstreamErrorMessage(text);
        const short = said.length > 200 ? `${said.slice(0, 200)}…` : said;
        return {
          ok: false,
          status: res.status,
          reason: `HTTP ${res.status}${short ? `: ${short}` : ""}`,
        };
      }
      try {
        return { ok: true, status: res.status, json: JSON.parse(text) };
      } catch {
        return { ok: false, status: res.status, reason: "the answer is not JSON" };
      }
    } catch (err) {
      return {
        ok: false,
        status: undefined,
        reason: fetchFailure(err, timeout.aborted, this.#o.timeoutMs),
      };
    }
  }

  /**
   * The status lines of `GET /chutes/warmup/{name}`, an SSE stream of `{status, log}` that ends
   * once the chute is hot (chutes-api `warm_up_chute`). Throws a `WarmupError` with the reason
   * when the stream cannot be opened or breaks; `signal` ends it early (the generator returns).
   */
  async *warmup(name: string, signal: AbortSignal): AsyncGenerator<WarmupEvent> {
    let res: Response;
    try {
      res = await this.#o.fetch(
        `${this.#o.baseUrl}/chutes/warmup/${encodeURIComponent(name).replace(/%2F/g, "/")}`,
        { headers: this.#headers(true, "text/event-stream"), redirect: "manual", signal },
      );
    } catch (err) {
      if (signal.aborted) return;
      throw new WarmupError(fetchFailure(err, false, 0));
    }
    if (!res.ok) {
      const text = (await readCapped(res, 64 * 1024).catch(() => "")) ?? "";
      const said = /html/i.test(res.headers.get("content-type") ?? "")
        ? ""
        : upstreamErrorMessage(text);
      throw new WarmupError(
        `HTTP ${res.status}${said ? `: ${said.slice(0, 300)}` : ""}`,
        res.status,
      );
    }
    const events: WarmupEvent[] = [];
    const decoder = new SseDecoder((item) => {
      if (item.kind !== "data") return;
      try {
        const json = JSON.parse(item.data) as Record<string, unknown>;
        if (typeof json.status !== "string") return;
        events.push({ status: json.status, log: typeof json.log === "string" ? json.log : "" });
      } catch {
        // A line that is not JSON says nothing about warmth.
      }
    });
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) decoder.end();
        else decoder.feedBytes(value);
        yield* events.splice(0);
        if (done) return;
      }
    } catch (err) {
      if (signal.aborted) return;
      throw new WarmupError(`the warm-up stream broke: ${(err as Error)?.message ?? err}`);
    } finally {
      void reader.cancel().catch(() => {});
    }
  }
}

/**
 * Why a warm-up could not be started or followed: `status` is the HTTP status, when there was
 * one; `stillCold` says the wait ran out while the chute was not hot yet.
 */
export class WarmupError extends Error {
  constructor(message: string, readonly status?: number, readonly stillCold = false) {
    super(message);
    this.name = "WarmupError";
  }
}
