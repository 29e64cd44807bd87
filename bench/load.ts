/**
 * The load generator: keeps `-c` streaming chat requests in flight (a closed loop: each worker
 * sends its next request when the last one ends) until `--warmup` + `-n` requests are done,
 * reads every line of every answer, and prints one JSON line of results on stdout.
 *
 *   deno run --allow-net=127.0.0.1 --allow-run=cat bench/load.ts \
 *     --url http://127.0.0.1:11434/api/chat --format ndjson -c 64 -n 2000 --tokens 64 \
 *     --pid server=1234 --pid upstream=1230
 *
 * `--format sse` sends an OpenAI body and reads SSE (straight from the upstream, or through the
 * pass-through); `--format ndjson` sends an Ollama `/api/chat` body and reads NDJSON (the proxy).
 * A request fails on a non-2xx status, a network error, an error line, a missing final line, or
 * a token count other than `--tokens`. The first `--warmup` requests are not measured; the
 * measured window opens when the first measured request starts and closes when the last ends.
 * The gap is the time from one content token's arrival to the next's within an answer (tokens
 * that arrive in one network read are 0 apart). Every token line read inside the window counts
 * for tokens/s and CPU per token; each `--pid`
 * process's CPU time (from /proc) is sampled at both ends of the window. Workers start spread
 * over `--ramp-ms`, so slow streams are out of phase like real users'. Bounded: no new request
 * starts after `--max-seconds`, each request is aborted after `--timeout-ms`.
 */
import { parseArgs } from "node:util";
import { BENCH_MODEL } from "./fake_upstream.ts";
import { Http1Connection, postRequest } from "./http_client.ts";
import { cpuMicros } from "./proc.ts";

/** What one run of the load generator reports. */
export interface LoadResult {
  requests: number;
  failures: number;
  failureSamples: string[];
  windowMs: number;
  reqPerSec: number;
  tokPerSec: number;
  tokens: number;
  ttftMs: { p50: number; p99: number };
  totalMs: { p50: number; p99: number };
  /** Time between one content token's arrival and the next's, within each answer. */
  gapMs: { p50: number; p99: number };
  /** CPU µs spent in the window per process name (`load` is this process). */
  cpuMicros: Record<string, number | null>;
  /** The same divided by the tokens read in the window. */
  cpuMicrosPerToken: Record<string, number | null>;
  truncated: boolean;
}

const CONTENT = '"content":"';
const QUOTE = 34;

type LineKind = "none" | "token" | "done" | "error";

/** Classifies one SSE line from a vLLM-shaped stream. */
function sseLine(line: string): LineKind {
  if (line === "") return "none";
  if (line === "data: [DONE]") return "done";
  if (!line.startsWith("data: ")) return "error";
  if (line.includes('"error"')) return "error";
  const at = line.indexOf(CONTENT);
  return at >= 0 && line.charCodeAt(at + CONTENT.length) !== QUOTE ? "token" : "none";
}

/** Classifies one NDJSON line from the proxy. */
function ndjsonLine(line: string): LineKind {
  if (line === "") return "none";
  if (line.startsWith('{"error"')) return "error";
  if (line.includes('"done":true')) return "done";
  const at = line.indexOf(CONTENT);
  return at >= 0 && line.charCodeAt(at + CONTENT.length) !== QUOTE ? "token" : "none";
}

/** Nearest-rank percentile of `sorted` (ascending), in the same unit. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      format: { type: "string", default: "ndjson" },
      concurrency: { type: "string", short: "c", default: "64" },
      requests: { type: "string", short: "n", default: "1000" },
      warmup: { type: "string", default: "0" },
      tokens: { type: "string", default: "64" },
      "ramp-ms": { type: "string", default: "0" },
      "max-seconds": { type: "string", default: "120" },
      "timeout-ms": { type: "string", default: "60000" },
      pid: { type: "string", multiple: true, default: [] },
    },
  });
  if (!values.url) throw new Error("--url is required");
  if (values.format !== "sse" && values.format !== "ndjson") throw new Error("--format sse|ndjson");
  const pids = Object.fromEntries(values.pid.map((p) => {
    const [name, pid] = p.split("=");
    return [name!, Number(pid)];
  }));
  return {
    url: values.url,
    format: values.format as "sse" | "ndjson",
    concurrency: Number(values.concurrency),
    requests: Number(values.requests),
    warmup: Number(values.warmup),
    tokens: Number(values.tokens),
    rampMs: Number(values["ramp-ms"]),
    maxSeconds: Number(values["max-seconds"]),
    timeoutMs: Number(values["timeout-ms"]),
    pids: { ...pids, load: Deno.pid } as Record<string, number>,
  };
}

type Options = ReturnType<typeof options>;

/** Runs the load described by `o` and returns its figures. */
export async function runLoad(o: Options): Promise<LoadResult> {
  const body = JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: "user", content: "Say something." }],
    stream: true,
    ...(o.format === "sse" ? { stream_options: { include_usage: true } } : {}),
  });
  const classify = o.format === "sse" ? sseLine : ndjsonLine;
  const total = o.warmup + o.requests;
  const ttft: number[] = [];
  const times: number[] = [];
  const gaps: number[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  let nextIndex = 0;
  let windowOpen = o.warmup === 0;
  let windowTokens = 0;
  let windowStart = performance.now();
  const cpuAt = () => Object.fromEntries(Object.entries(o.pids).map(([k, p]) => [k, cpuMicros(p)]));
  let cpuStart = cpuAt();
  const deadline = performance.now() + o.maxSeconds * 1000;
  let truncated = false;
  let stopped = false;

  const target = new URL(o.url);
  const request = postRequest(target.host, target.pathname, body);
  const connections = new Set<Http1Connection>();
  const hardStop = setTimeout(() => {
    stopped = true;
    for (const c of connections) c.close();
  }, o.maxSeconds * 1000 + o.timeoutMs);

  const oneRequest = async (conn: Http1Connection, measured: boolean): Promise<void> => {
    const t0 = performance.now();
    let first: number | undefined;
    let last: number | undefined;
    const ownGaps: number[] = [];
    let tokens = 0;
    let done = false;
    let error: string | undefined;
    const decoder = new TextDecoder();
    let pending = "";
    const onBody = (bytes: Uint8Array) => {
      const now = performance.now();
      const text = pending + decoder.decode(bytes, { stream: true });
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        const kind = classify(text.slice(start, nl));
        start = nl + 1;
        if (kind === "token") {
          first ??= now;
          if (last !== undefined) ownGaps.push(now - last);
          last = now;
          tokens++;
          if (windowOpen) windowTokens++;
        } else if (kind === "done") done = true;
        else if (kind === "error") error ??= `error line: ${text.slice(0, 200)}`;
      }
      pending = text.slice(start);
    };
    const timeout = setTimeout(() => conn.close(), o.timeoutMs);
    try {
      const status = await conn.send(request, onBody);
      if (status < 200 || status > 299) error = `HTTP ${status}: ${pending.slice(0, 200)}`;
      if (!error && !done) error = "stream ended without its final line";
      if (!error && tokens !== o.tokens) error = `${tokens} tokens, expected ${o.tokens}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    } finally {
      clearTimeout(timeout);
    }
    if (!measured) return;
    if (error) {
      failures++;
      if (failureSamples.length < 5) failureSamples.push(error);
      return;
    }
    const end = performance.now();
    ttft.push(first! - t0);
    times.push(end - t0);
    for (const gap of ownGaps) gaps.push(gap);
  };

  const worker = async (delayMs: number) => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const conn = new Http1Connection(target.hostname, Number(target.port));
    connections.add(conn);
    while (nextIndex < total && !stopped) {
      if (performance.now() > deadline) {
        truncated = true;
        break;
      }
      const index = nextIndex++;
      if (index === o.warmup && !windowOpen) {
        windowOpen = true;
        windowStart = performance.now();
        cpuStart = cpuAt();
      }
      await oneRequest(conn, index >= o.warmup);
    }
    conn.close();
  };
  await Promise.all(
    Array.from({ length: o.concurrency }, (_, i) => worker((o.rampMs * i) / o.concurrency)),
  );
  clearTimeout(hardStop);
  const cpuEnd = cpuAt();
  const windowMs = performance.now() - windowStart;
  const cpu: Record<string, number | null> = {};
  const perToken: Record<string, number | null> = {};
  for (const name of Object.keys(o.pids)) {
    const a = cpuStart[name];
    const b = cpuEnd[name];
    cpu[name] = a == null || b == null ? null : b - a;
    perToken[name] = cpu[name] == null || windowTokens === 0 ? null : cpu[name]! / windowTokens;
  }
  ttft.sort((a, b) => a - b);
  times.sort((a, b) => a - b);
  gaps.sort((a, b) => a - b);
  return {
    requests: times.length + failures,
    failures,
    failureSamples,
    windowMs,
    reqPerSec: (times.length * 1000) / windowMs,
    tokPerSec: (windowTokens * 1000) / windowMs,
    tokens: windowTokens,
    ttftMs: { p50: percentile(ttft, 50), p99: percentile(ttft, 99) },
    totalMs: { p50: percentile(times, 50), p99: percentile(times, 99) },
    gapMs: { p50: percentile(gaps, 50), p99: percentile(gaps, 99) },
    cpuMicros: cpu,
    cpuMicrosPerToken: perToken,
    truncated,
  };
}

if (import.meta.main) {
  // deno-lint-ignore no-console
  console.log(JSON.stringify(await runLoad(options())));
}
