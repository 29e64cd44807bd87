/**
 * Reading the upstream answers that are not streamed to a client: an HTTP error's body (cut at
 * 64 KiB), a redirect (never followed: the prompt and the token must not go to another origin),
 * and a capped body (the model listing, then parsed). Every message built from upstream text is redacted of
 * every secret first and cut short after, so a secret the upstream echoes can leave neither
 * whole nor as a prefix (`Secrets`).
 */
import { ProxyError, upstreamHttpError } from "../base/errors.ts";
import { type Logger, redact } from "../base/log.ts";
import { NotRetriable, parseRetryAfter } from "./retry.ts";
import type { ChunkSource, TransportAnswer } from "./transport.ts";
import type { UpstreamModel } from "./wire.ts";

/** Most of an error body kept for the message. */
export const MAX_ERROR_BODY = 64 * 1024;
const MAX_LOCATION = 500;

/** The proxy's secrets, and the two ways text from upstream is made safe. */
export class Secrets {
  readonly #list: readonly string[];
  /** Length of the longest secret: how much more to read so a cut never halves one. */
  readonly longest: number;

  constructor(secrets: readonly string[]) {
    this.#list = secrets.filter((s) => s.length > 0);
    this.longest = Math.max(0, ...this.#list.map((s) => s.length));
  }

  /** `text` with every secret replaced. */
  redact(text: string): string {
    return this.#list.length === 0 ? text : redact(text, this.#list);
  }

  /** Redacted, then cut to `max` characters. */
  cut(text: string, max: number): string {
    const safe = this.redact(text);
    return safe.length > max ? `${safe.slice(0, max)}…` : safe;
  }
}

/**
 * Reads `body` as text, at most `max` bytes (`contentLength` when the answer said it). With
 * `cut`, a longer body is cut there; without, it is refused: the body is cancelled and a
 * `ProxyError` 502 names the limit.
 */
export async function readCapped(
  body: ChunkSource,
  max: number,
  what: string,
  options: { cut?: boolean; contentLength?: number } = {},
): Promise<string> {
  const refuse = () => {
    body.cancel();
    return new ProxyError(502, `${what} is larger than ${max / (1024 * 1024)} MiB; not read`);
  };
  if (!options.cut && (options.contentLength ?? 0) > max) throw refuse();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await body.read(); chunk; chunk = await body.read()) {
    if (size + chunk.length > max) {
      if (!options.cut) throw refuse();
      chunks.push(chunk.slice(0, max - size));
      size = max;
      body.cancel();
      break;
    }
    chunks.push(chunk.slice());
    size += chunk.length;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}

/**
 * The `ProxyError` for a non-2xx answer: a redirect is refused naming its status and
 * `Location`; an HTTP error keeps the upstream's status and message (redacted), and its
 * `Retry-After`.
 */
export async function errorFromAnswer(
  answer: TransportAnswer,
  baseUrl: string,
  path: string,
  secrets: Secrets,
  log: Logger,
): Promise<ProxyError> {
  const { status, headers } = answer;
  if (status >= 300 && status < 400) {
    answer.body.cancel();
    const location = headers.get("location");
    const where = location === null
      ? "without a Location"
      : `to ${secrets.cut(location, MAX_LOCATION)}`;
    log.warn(`upstream ${path} → ${status} redirect ${where}; not followed`);
    return new NotRetriable(
      502,
      `the upstream at ${baseUrl} answered ${status} (a redirect ${where}); ` +
        "redirects are not followed, so the request was not sent anywhere else",
    );
  }
  let text = "";
  try {
    // A little more than kept, so that a secret across the cut is still whole when redacted.
    text = await readCapped(answer.body, MAX_ERROR_BODY + secrets.longest, "error body", {
      cut: true,
    });
  } catch {
    // A body that breaks off still leaves the status to report.
  }
  const safe = secrets.redact(text).slice(0, MAX_ERROR_BODY);
  log.debug(`upstream ${path} → ${status}: ${log.excerpt(safe)}`);
  const err = upstreamHttpError(status, safe);
  err.retryAfterMs = parseRetryAfter(headers.get("retry-after"), Date.now());
  return err;
}

/** The models of a `/models` answer (entries without an `id` are skipped). */
export function parseListing(text: string): UpstreamModel[] {
  let json: { data?: unknown } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!json || !Array.isArray(json.data)) {
    throw new ProxyError(502, "upstream /models answer has no data array");
  }
  return json.data.filter((m): m is UpstreamModel =>
    m !== null && typeof m === "object" && typeof (m as UpstreamModel).id === "string"
  );
}
