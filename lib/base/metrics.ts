/**
 * Counters for `/metrics` (Prometheus text format) and the status page: requests by route,
 * status and model; upstream attempts and retries; tokens in and out by model; histograms of
 * time to first token and duration; open streams; the last requests; and per-minute totals for
 * the last hour. Fed once per request by the access log (`RequestContext.end`), so the hot path
 * pays one map update per request, nothing per token.
 */

/** What one finished request contributes. */
export interface RequestRecord {
  at: number;
  method: string;
  route: string;
  status: number;
  model: string;
  attempts: number;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | undefined;
  totalMs: number;
  id: string;
  /** An error status, or a stream that ended with an error after its 200. */
  failed: boolean;
  /** The client left before the answer was complete. */
  aborted?: boolean;
  /** Why it failed (or was cut short): the upstream status and message, time-out, … */
  error?: string | undefined;
  /** The client protocol (`ollama`, `openai`, …). */
  door?: string | undefined;
  /** The access key's name, never the key. */
  keyName?: string | undefined;
}

/** One minute of the last hour. */
export interface MinuteBucket {
  minute: number;
  requests: number;
  errors: number;
  tokensIn: number;
  tokensOut: number;
}

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const RECENT = 50;
const MAX_MODELS = 500;
const RECENT_ERRORS = 100;
const QUIET_ROUTES = new Set([
  "/ui",
  "/ui/data",
  "/metrics",
  "/healthz",
  "/readyz",
  "/favicon.ico",
]);

class Histogram {
  readonly counts = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(label: string, seconds: number): void {
    let h = this.counts.get(label);
    if (!h) this.counts.set(label, h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 });
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) h!.buckets[i]!++;
    });
    h.sum += seconds;
    h.count++;
  }

  lines(name: string, labelName: string): string[] {
    const out: string[] = [];
    for (const [label, h] of this.counts) {
      const l = `${labelName}="${escape(label)}"`;
      BUCKETS.forEach((le, i) => out.push(`${name}_bucket{${l},le="${le}"} ${h.buckets[i]}`));
      out.push(
        `${name}_bucket{${l},le="+Inf"} ${h.count}`,
        `${name}_sum{${l}} ${h.sum}`,
        `${name}_count{${l}} ${h.count}`,
      );
    }
    return out;
  }
}

function escape(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Process-wide counters. */
export class Metrics {
  readonly startedAt: number;
  openStreams = 0;
  readonly #requests = new Map<string, number>();
  readonly #tokens = new Map<string, number>();
  #attempts = 0;
  #streamFailures = 0;
  #retries = 0;
  readonly #ttft = new Histogram();
  readonly #duration = new Histogram();
  readonly #recent: RequestRecord[] = [];
  readonly #errors: RequestRecord[] = [];
  readonly #minutes: MinuteBucket[] = [];
  readonly #listeners: ((r: RequestRecord) => void)[] = [];

  constructor(readonly now: () => number) {
    this.startedAt = now();
  }

  /** Calls `listener` with every request recorded from now on (the persistent usage store). */
  onRecord(listener: (r: RequestRecord) => void): void {
    this.#listeners.push(listener);
  }

  /** Models seen so far: label values are bounded, so a client cannot grow them without end. */
  readonly #models = new Set<string>();

  /** The model's label: itself for the first `MAX_MODELS` names, then `other`. */
  #modelLabel(model: string): string {
    if (model === "" || this.#models.has(model)) return model;
    if (this.#models.size >= MAX_MODELS) return "other";
    this.#models.add(model);
    return model;
  }

  /** Records one finished request. */
  record(record: RequestRecord): void {
    const r = { ...record, model: this.#modelLabel(record.model) };
    const key = `${r.route}\u0000${r.status}\u0000${r.model}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    if (r.model) {
      this.#tokens.set(
        `${r.model}\u0000in`,
        (this.#tokens.get(`${r.model}\u0000in`) ?? 0) + r.promptTokens,
      );
      this.#tokens.set(
        `${r.model}\u0000out`,
        (this.#tokens.get(`${r.model}\u0000out`) ?? 0) + r.completionTokens,
      );
    }
    this.#attempts += r.attempts;
    if (r.failed && r.status < 400) this.#streamFailures++;
    this.#retries += Math.max(0, r.attempts - 1);
    if (r.ttftMs !== undefined) this.#ttft.observe(r.route, r.ttftMs / 1000);
    this.#duration.observe(r.route, r.totalMs / 1000);
    // The status page's own polling and scrapes would drown the requests a user cares about.
    if (QUIET_ROUTES.has(r.route)) return;
    this.#recent.push(r);
    if (this.#recent.length > RECENT) this.#recent.shift();
    if (r.failed) {
      this.#errors.push(r);
      if (this.#errors.length > RECENT_ERRORS) this.#errors.shift();
    }
    this.#bucket(r);
    for (const listener of this.#listeners) listener(r);
  }

  /** The failed requests of the last hour (at most the last 100), newest first. */
  lastHourErrors(): RequestRecord[] {
    const from = this.now() - 3_600_000;
    return this.#errors.filter((r) => r.at >= from).reverse();
  }

  #bucket(r: RequestRecord): void {
    const minute = Math.floor(r.at / 60_000);
    let last = this.#minutes.at(-1);
    if (!last || last.minute !== minute) {
      this.#minutes.push(last = { minute, requests: 0, errors: 0, tokensIn: 0, tokensOut: 0 });
      while (this.#minutes.length > 0 && this.#minutes[0]!.minute <= minute - 60) {
        this.#minutes.shift();
      }
    }
    last.requests++;
    if (r.failed) last.errors++;
    last.tokensIn += r.promptTokens;
    last.tokensOut += r.completionTokens;
  }

  /** The last requests, newest first. */
  recent(): RequestRecord[] {
    return [...this.#recent].reverse();
  }

  /** Per-minute totals over the last hour, oldest first (minutes without requests omitted). */
  lastHour(): MinuteBucket[] {
    const from = Math.floor(this.now() / 60_000) - 59;
    return this.#minutes.filter((m) => m.minute >= from).map((m) => ({ ...m }));
  }

  /** Tokens so far by model: `{model: {in, out}}`. */
  tokensByModel(): Record<string, { in: number; out: number }> {
    const out: Record<string, { in: number; out: number }> = {};
    for (const [key, n] of this.#tokens) {
      const [model, dir] = key.split("\u0000") as [string, "in" | "out"];
      (out[model] ??= { in: 0, out: 0 })[dir] = n;
    }
    return out;
  }

  /** The Prometheus text exposition. */
  prometheus(): string {
    const lines = [
      "# HELP ollama_proxy_requests_total Requests answered, by route, status and model.",
      "# TYPE ollama_proxy_requests_total counter",
      ...[...this.#requests].map(([key, n]) => {
        const [route, status, model] = key.split("\u0000") as [string, string, string];
        return `ollama_proxy_requests_total{route="${escape(route)}",status="${status}",model="${
          escape(model)
        }"} ${n}`;
      }),
      "# HELP ollama_proxy_stream_failures_total Answers that failed after their 200 went out (final error line or event).",
      "# TYPE ollama_proxy_stream_failures_total counter",
      `ollama_proxy_stream_failures_total ${this.#streamFailures}`,
      "# HELP ollama_proxy_upstream_attempts_total Upstream calls made, retries included.",
      "# TYPE ollama_proxy_upstream_attempts_total counter",
      `ollama_proxy_upstream_attempts_total ${this.#attempts}`,
      "# HELP ollama_proxy_upstream_retries_total Upstream calls that were retries.",
      "# TYPE ollama_proxy_upstream_retries_total counter",
      `ollama_proxy_upstream_retries_total ${this.#retries}`,
      "# HELP ollama_proxy_tokens_total Tokens by model and direction (in = prompt, out = completion).",
      "# TYPE ollama_proxy_tokens_total counter",
      ...[...this.#tokens].map(([key, n]) => {
        const [model, dir] = key.split("\u0000") as [string, string];
        return `ollama_proxy_tokens_total{model="${escape(model)}",direction="${dir}"} ${n}`;
      }),
      "# HELP ollama_proxy_time_to_first_token_seconds Time from request to first token.",
      "# TYPE ollama_proxy_time_to_first_token_seconds histogram",
      ...this.#ttft.lines("ollama_proxy_time_to_first_token_seconds", "route"),
      "# HELP ollama_proxy_request_duration_seconds Time from request to the end of the answer.",
      "# TYPE ollama_proxy_request_duration_seconds histogram",
      ...this.#duration.lines("ollama_proxy_request_duration_seconds", "route"),
      "# HELP ollama_proxy_open_streams Streams being answered now.",
      "# TYPE ollama_proxy_open_streams gauge",
      `ollama_proxy_open_streams ${this.openStreams}`,
      "# HELP ollama_proxy_uptime_seconds Seconds since the proxy started.",
      "# TYPE ollama_proxy_uptime_seconds gauge",
      `ollama_proxy_uptime_seconds ${Math.round((this.now() - this.startedAt) / 1000)}`,
    ];
    return `${lines.join("\n")}\n`;
  }
}
