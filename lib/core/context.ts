/**
 * The access log: one line per request, written when the answer is complete (for a stream,
 * when its last byte went out or the client left), with what a user needs to debug a request:
 * method, path, model, status, upstream status and attempts, tokens in/out, time to first
 * token, total time, our request id (also sent back as `X-Request-Id`) and Chutes'
 * `X-Chutes-InvocationID` for support tickets. The model name is the client's text: it is quoted
 * when it holds spaces or quotes, and the logger escapes control characters, so it cannot forge
 * a field or a line.
 */
import { type Logger, logValue } from "../base/log.ts";
import type { Metrics } from "../base/metrics.ts";
import type { UpstreamTrace } from "../upstream/client.ts";

/** Per-request facts gathered by the handlers and written as one line at the end. */
export class RequestContext {
  readonly id = crypto.randomUUID().slice(0, 8);
  readonly trace: UpstreamTrace = { attempts: 0 };
  model: string | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  firstTokenAt: number | undefined;
  /** Set by a handler whose body streams: the line is written by `end()` when the body ends. */
  streaming = false;
  #written = false;

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
    this.#count(status, note);
    const ms = (t: number) => `${Math.round(t - this.startedAt)}ms`;
    const parts = [`${this.method} ${this.path} ${status}`];
    if (this.model) parts.push(`model=${logValue(this.model)}`);
    if (this.trace.status !== undefined) parts.push(`upstream=${this.trace.status}`);
    if (this.trace.attempts > 1) parts.push(`attempts=${this.trace.attempts}`);
    if (this.promptTokens !== undefined || this.completionTokens !== undefined) {
      parts.push(`tokens=${this.promptTokens ?? "?"}/${this.completionTokens ?? "?"}`);
    }
    if (this.firstTokenAt !== undefined) parts.push(`ttft=${ms(this.firstTokenAt)}`);
    parts.push(`total=${ms(this.now())}`, `id=${this.id}`);
    if (this.trace.invocationId) parts.push(`chutes=${this.trace.invocationId}`);
    if (note) parts.push(`(${note})`);
    this.log.info(parts.join(" "));
  }

  #count(status: number, note: string | undefined): void {
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
      // A stream fails after its 200 went out; its note says so (lib/pipeline.ts, lib/sse_relay.ts).
      failed: status >= 400 || (note?.startsWith("failed") ?? false),
    });
  }
}
