/**
 * The upstream client: sends translated requests to the OpenAI-compatible API with the server's
 * token and turns every failure before the body into a `ProxyError` with the status the client
 * should see (the upstream's own status and message for HTTP errors, 502 when it cannot be
 * reached). `fetch` is injected. The client's abort signal is passed on, so a client that leaves
 * cancels the upstream request.
 */
import { ProxyError, upstreamHttpError } from "./errors.ts";
import { type Logger, redact, truncateForLog } from "./log.ts";
import type { UpstreamModel } from "./openai_types.ts";

/** The proxy's own version, sent as User-Agent. */
export const PROXY_VERSION = "0.1.0";

/** What the upstream client needs. */
export interface UpstreamOptions {
  baseUrl: string;
  token: string;
  fetch: typeof fetch;
  log: Logger;
  /** Timeout for the model listing, in milliseconds. */
  listTimeoutMs?: number;
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
    return new Headers({
      authorization: `Bearer ${this.#o.token}`,
      "content-type": "application/json",
      accept,
      "user-agent": `ollama-chutes-proxy/${PROXY_VERSION}`,
    });
  }

  async #fetch(path: string, init: RequestInit): Promise<Response> {
    const url = `${this.#o.baseUrl}${path}`;
    let res: Response;
    try {
      res = await this.#o.fetch(url, init);
    } catch (err) {
      if (init.signal?.aborted) {
        if ((init.signal.reason as Error | undefined)?.name === "TimeoutError") {
          throw new ProxyError(
            504,
            `the upstream at ${this.#o.baseUrl} did not answer in time`,
            true,
          );
        }
        throw new ProxyError(499, "request canceled");
      }
      const reason = err instanceof Error ? err.message : String(err);
      throw new ProxyError(502, `cannot reach the upstream at ${this.#o.baseUrl}: ${reason}`, true);
    }
    if (!res.ok) {
      const body = await readErrorBody(res);
      this.#o.log.debug(`upstream ${path} → ${res.status}: ${truncateForLog(body)}`);
      // An upstream that echoes the token in an error must not hand it to our client.
      throw upstreamHttpError(res.status, redact(body, [this.#o.token]));
    }
    return res;
  }

  /** POSTs a JSON body and returns the (2xx) streaming response. */
  async post(path: string, body: unknown, signal: AbortSignal): Promise<Response> {
    const text = JSON.stringify(body);
    if (this.#o.log.debugEnabled) {
      this.#o.log.debug(`upstream POST ${path} ${truncateForLog(text)}`);
    }
    return await this.#fetch(path, {
      method: "POST",
      headers: this.#headers("text/event-stream"),
      body: text,
      signal,
    });
  }

  /** Lists the upstream's models (`GET /models`). */
  async listModels(): Promise<UpstreamModel[]> {
    const signal = AbortSignal.timeout(this.#o.listTimeoutMs ?? 15_000);
    const res = await this.#fetch("/models", {
      headers: this.#headers("application/json"),
      signal,
    });
    const json = await res.json().catch(() => undefined) as { data?: unknown } | undefined;
    if (!json || !Array.isArray(json.data)) {
      throw new ProxyError(502, "upstream /models answer has no data array");
    }
    return json.data.filter((m): m is UpstreamModel =>
      m !== null && typeof m === "object" && typeof (m as UpstreamModel).id === "string"
    );
  }
}
