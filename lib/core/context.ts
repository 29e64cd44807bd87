/**
 * The access log: one line per request, written when the answer is complete (for a stream,
 * when its last byte went out or the client left), with what a user needs to debug a request:
 * method, path, model, status, upstream status and attempts, tokens in/out, time to first
 * token, total time, our request id (also sent back as `X-Request-Id`), Chutes'
 * `X-Chutes-InvocationID` for support tickets, the access key's name, and why it failed.
 * 401, 402, 429, 5xx and streams that failed after their 200 are WARN lines; the probes,
 * `/metrics` and the status page's own requests are DEBUG lines. In `json` format the same
 * facts are fields of one object (lib/base/log_json.ts). The model name is the client's text: it
 * is quoted when it holds spaces or quotes, and the logger escapes control characters, so it
 * cannot forge a field or a line.
 */
import { type LogFields, type Logger, type LogLevel, logValue } from "../base/log.ts";
import type { Metrics } from "../base/metrics.ts";
import type { UpstreamTrace } from "../upstream/client.ts";

/** How a request ended, and why when it did not end well. */
interface Outcome {
  kind: "ok" | "failed" | "aborted";
  error: string | undefined;
}

/** Routes whose requests are logged only in debug mode: probes, scrapes, the status page. */
export const QUIET_ROUTES: ReadonlySet<string> = new Set([
  "/healthz",
  "/readyz",
  "/metrics",
  "/ui/data",
  "/favicon.ico",
]);

/** Client or upstream text kept for the log, metrics and status page: at most `max` characters. */
function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Per-request facts gathered by the handlers and written as one line at the end. */
export class RequestContext {
  readonly id = crypto.randomUUID().slice(0, 8);
  readonly trace: UpstreamTrace = { attempts: 0 };
  /** The client protocol that answered (`ollama`, `openai`, `anthropic`, `responses`). */
  door: string | undefined;
  #model: string | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  firstTokenAt: number | undefined;
  /** The access key's name (`key_names`) or `key-<sha256 prefix>`; never the key itself. */
  keyName: string | undefined;
  /** The client's address, as the server saw it. */
  client: string | undefined;
  /** Why the request failed, when it did before its answer (set with the error status). */
  failure: string | undefined;
  /** Set by a handler whose body streams: the line is written by `end()` when the body ends. */
  streaming = false;
  #written = false;

  /** The model the request ran on, as the client named it (client text: kept short). */
  get model(): string | undefined {
    return this.#model;
  }

  set model(name: string | undefined) {
    this.#model = name === undefined ? undefined : bounded(name, 200);
  }

  constructor(
    readonly method: string,
    readonly path: string,
    readonly startedAt: number,
    readonly now: () => number,
    readonly log: Logger,
    /** Where the request is counted; `route` is its label there (bounded: unknown paths are "other"). */
    readonly metrics?: Metrics,
    readonly route = path,
  ) {}

  /** Marks the answer as a stream whose end will be reported by `end()`. */
  startStream(): void {
    if (this.streaming) return;
    this.streaming = true;
    if (this.metrics) this.metrics.openStreams++;
  }

  /** Writes the line once; `status` is the HTTP status sent, `note` e.g. "client left". */
  end(status: number, note?: string): void {
    if (this.#written) return;
    this.#written = true;
    const outcome = this.#outcome(status, note);
    this.#count(status, outcome);
    const ms = (t: number) => Math.round(t - this.startedAt);
    const parts = [`${this.method} ${this.path} ${status}`];
    if (this.model) parts.push(`model=${logValue(this.model)}`);
    if (this.trace.status !== undefined) parts.push(`upstream=${this.trace.status}`);
    if (this.trace.attempts > 1) parts.push(`attempts=${this.trace.attempts}`);
    if (this.promptTokens !== undefined || this.completionTokens !== undefined) {
      parts.push(`tokens=${this.promptTokens ?? "?"}/${this.completionTokens ?? "?"}`);
    }
    const ttft = this.firstTokenAt === undefined ? undefined : ms(this.firstTokenAt);
    const total = ms(this.now());
    if (ttft !== undefined) parts.push(`ttft=${ttft}ms`);
    parts.push(`total=${total}ms`, `id=${this.id}`);
    if (this.trace.invocationId) parts.push(`chutes=${this.trace.invocationId}`);
    if (this.keyName) parts.push(`key=${this.keyName}`);
    if (note) parts.push(`(${note})`);
    else if (outcome.error) parts.push(`(failed: ${outcome.error})`);
    const fields: LogFields = {
      request_id: this.id,
      door: this.door,
      method: this.method,
      route: this.route,
      path: this.path,
      model: this.model,
      status,
      upstream_status: this.trace.status,
      attempts: this.trace.attempts,
      tokens_in: this.promptTokens,
      tokens_out: this.completionTokens,
      ttft_ms: ttft,
      duration_ms: total,
      key_name: this.keyName,
      client: this.client,
      chutes_invocation_id: this.trace.invocationId,
      outcome: outcome.kind,
      error: outcome.error,
    };
    this.log[this.#level(status, outcome.kind)](parts.join(" "), fields);
  }

  #outcome(status: number, note: string | undefined): Outcome {
    if (note?.startsWith("failed")) {
      const error = note.replace(/^failed:?\s*/, "") || "the stream failed";
      return { kind: "failed", error: bounded(error, 500) };
    }
    if (note === "client left" || status === 499) {
      return { kind: "aborted", error: "the client left before the end" };
    }
    if (status >= 400) {
      return { kind: "failed", error: bounded(this.failure ?? `answered HTTP ${status}`, 500) };
    }
    return { kind: "ok", error: undefined };
  }

  #level(status: number, outcome: Outcome["kind"]): LogLevel {
    if (QUIET_ROUTES.has(this.route)) return "debug";
    if (status === 401 || status === 402 || status === 429 || status >= 500) return "warn";
    return outcome === "failed" && status < 400 ? "warn" : "info";
  }

  #count(status: number, outcome: Outcome): void {
    if (!this.metrics) return;
    if (this.streaming) this.metrics.openStreams--;
    const end = this.now();
    this.metrics.record({
      at: this.metrics.now(),
      method: this.method,
      route: this.route,
      status,
      model: this.model ?? "",
      attempts: this.trace.attempts,
      promptTokens: this.promptTokens ?? 0,
      completionTokens: this.completionTokens ?? 0,
      ttftMs: this.firstTokenAt === undefined ? undefined : this.firstTokenAt - this.startedAt,
      totalMs: end - this.startedAt,
      id: this.id,
      // A stream fails after its 200 went out; its note says so (core/answer.ts, sse_relay.ts).
      failed: outcome.kind === "failed",
      door: this.door,
      keyName: this.keyName,
      error: outcome.error,
      aborted: outcome.kind === "aborted",
    });
  }
}
