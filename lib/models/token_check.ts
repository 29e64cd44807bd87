/**
 * Whether the upstream accepts the Chutes token. Chutes lists its models without a token, so a
 * wrong token is invisible to the catalogue: the proxy would say ready while every chat fails.
 * The probe (shared with `--check`) asks `POST /chat/completions` for a model that cannot exist,
 * with `max_tokens: 1`: Chutes authenticates before it looks the model up, so 401/403 means the
 * token is refused, while 400/404/422 mean it passed and nothing ran (no quota spent). An
 * upstream without authentication answers 404 and passes too. `TokenCheck` runs it once at
 * start-up in the background: a refusal is an ERROR log line naming `CHUTES_API_TOKEN` and the
 * fix, and `/readyz` and the status page report it.
 */
import type { Logger } from "../base/log.ts";
import { redact } from "../base/log.ts";
import { upstreamErrorMessage } from "../base/errors.ts";
import { PROXY_VERSION } from "../base/version.ts";

/** The probe's model: an id no upstream can serve, so the probe never runs a model. */
export const PROBE_MODEL = "ollama-chutes-proxy/token-check-no-such-model";

/** How to set a working token, for every message about a refused one. */
export const TOKEN_FIX = "Set CHUTES_API_TOKEN=cpk_... in the environment or in a .env file in " +
  'this directory (or "api_token" in config.json), without quotes or spaces around it. Create a ' +
  "key at https://chutes.ai (account → API keys).";

/** What an answer to the probe says about the token. */
export type TokenState = "unchecked" | "accepted" | "refused" | "unpaid" | "unknown";

/** The classification of the probe's HTTP status. */
export function tokenStateFor(status: number): Exclude<TokenState, "unchecked"> {
  if (status === 401 || status === 403) return "refused";
  if (status === 402) return "unpaid";
  if (status === 400 || status === 404 || status === 422 || (status >= 200 && status < 300)) {
    return "accepted";
  }
  return "unknown";
}

/** The probe request for `baseUrl` with `token`. */
export function probeRequest(
  baseUrl: string,
  token: string,
  purpose: string,
): { url: string; init: RequestInit } {
  return {
    url: `${baseUrl}/chat/completions`,
    init: {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "user-agent": `ollama-chutes-proxy/${PROXY_VERSION} (${purpose})`,
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        model: PROBE_MODEL,
        messages: [{ role: "user", content: "ping" }],
        max_tokens: 1,
        stream: false,
      }),
    },
  };
}

/** The latest verdict: its state and one sentence saying it (redacted). */
export interface TokenVerdict {
  state: TokenState;
  message: string;
}

/** The start-up token check and its verdict. */
export class TokenCheck {
  #verdict: TokenVerdict = { state: "unchecked", message: "the API token has not been checked" };

  constructor(
    readonly options: {
      baseUrl: string;
      token: string;
      fetch: typeof fetch;
      log: Logger;
      timeoutMs?: number;
    },
  ) {}

  /** The latest verdict (`unchecked` until `run` finished). */
  get verdict(): TokenVerdict {
    return this.#verdict;
  }

  /** Probes once and logs the outcome: an ERROR line with the fix when the token is refused. */
  async run(): Promise<TokenVerdict> {
    const o = this.options;
    const { url, init } = probeRequest(o.baseUrl, o.token, "token check");
    let status: number;
    let said = "";
    try {
      const res = await o.fetch(url, {
        ...init,
        signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      });
      status = res.status;
      const message = upstreamErrorMessage(redact(await res.text(), [o.token]));
      if (status >= 300 && message !== "") said = `: ${message.slice(0, 200)}`;
    } catch (err) {
      this.#verdict = {
        state: "unknown",
        message: `the API token could not be checked: ${(err as Error).message}`,
      };
      o.log.debug(this.#verdict.message);
      return this.#verdict;
    }
    const state = tokenStateFor(status);
    const messages: Record<typeof state, string> = {
      accepted: "the API token is accepted",
      refused: `the upstream refused the API token (HTTP ${status}${said})`,
      unpaid:
        `the API token is accepted, but the account cannot pay for requests (HTTP 402${said})`,
      unknown: `the API token could not be checked: HTTP ${status}${said}`,
    };
    this.#verdict = { state, message: messages[state] };
    if (state === "refused") {
      o.log.error(`${this.#verdict.message}: every request will fail. ${TOKEN_FIX} Then restart.`);
    } else if (state === "unpaid") {
      o.log.warn(`${this.#verdict.message}: add balance at https://chutes.ai.`);
    } else {
      o.log.debug(this.#verdict.message);
    }
    return this.#verdict;
  }
}
