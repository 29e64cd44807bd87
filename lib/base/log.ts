// deno-lint-ignore-file no-console
/**
 * Logging: the only module allowed to write to the console. Every line is redacted first —
 * each registered secret (the Chutes token, the extra upstreams' tokens, the proxy's access keys)
 * becomes `[redacted]` — then its control characters are escaped (by JSON itself in the `json`
 * format), so no secret leaks even from a debug dump and no client-supplied text (a model name
 * with a newline) can forge a line. Whoever
 * quotes a long text (a body in debug mode) cuts it with `Logger.excerpt`, which redacts before
 * it cuts: a secret cut in half would no longer match and its prefix would leak.
 */
import { jsonLine } from "./log_json.ts";
import { currentRequestId } from "./request_scope.ts";

/** Severity, lowest first. `debug` lines appear only in debug mode. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A sink for one finished log line; tests pass one that collects lines. */
export type LogSink = (level: LogLevel, line: string) => void;

/** `text`: `time LEVEL message`; `json`: one object per line (lib/base/log_json.ts). */
export type LogFormat = "text" | "json";

/** Structured facts of a line (the access log's), written as keys in `json` format. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** The logger handed to every module through the app's dependencies. */
export interface Logger {
  readonly debugEnabled: boolean;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** `text` redacted, then cut to `max` characters (saying how much was cut), for quoting in a line. */
  excerpt(text: string, max?: number): string;
}

const consoleSink: LogSink = (level, line) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};

/**
 * A secret this long is redacted wherever it occurs: it cannot be part of another word by chance,
 * and an echo glued to other text (`key%3D<token>`) must not leak it. A shorter one (a token `t`)
 * is redacted only where it stands as a whole value, never inside another word.
 */
export const WHOLE_WORD_BELOW = 16;

// Only syntax characters may be escaped in a `u` pattern (`\-` would be a syntax error).
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** One pattern matching every secret, the longest first; `undefined` when there is none. */
function secretPattern(secrets: readonly string[]): RegExp | undefined {
  const unique = [...new Set(secrets.filter((s) => s.length > 0))];
  if (unique.length === 0) return undefined;
  unique.sort((a, b) => b.length - a.length);
  const parts = unique.map((s) =>
    s.length >= WHOLE_WORD_BELOW
      ? escapeRegExp(s)
      : `(?<![\\p{L}\\p{N}_])${escapeRegExp(s)}(?![\\p{L}\\p{N}_])`
  );
  return new RegExp(parts.join("|"), "gu");
}

function redactWith(text: string, pattern: RegExp | undefined): string {
  return pattern ? text.replace(pattern, "[redacted]") : text;
}

/** Replaces each secret (ignoring blanks) with `[redacted]`; short ones only as whole values. */
export function redact(text: string, secrets: readonly string[]): string {
  return redactWith(text, secretPattern(secrets));
}

/** Cuts a text to `max` characters, saying how much was cut. Redact before calling this. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
}

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Escapes control characters (C0, DEL, C1), the Unicode line and paragraph separators and the
 * bidirectional overrides, so a line stays one line and reads as what it contains.
 */
export function escapeControls(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => {
      const code = c.charCodeAt(0);
      return NAMED[c] ??
        (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`);
    },
  );
}

/** A client-supplied value for a `key=value` log field: quoted (JSON) when it has spaces or quotes. */
export function logValue(value: string): string {
  return value === "" || /[\s"=\\]/.test(value) ? JSON.stringify(value) : value;
}

/**
 * Creates a logger that writes lines at or above the given level: `time LEVEL message` (a debug
 * line written during a request ends with ` id=<request id>`, as its access-log line does), or
 * one JSON object per line.
 */
export function createLogger(
  options: { debug: boolean; secrets: readonly string[]; sink?: LogSink; format?: LogFormat },
): Logger {
  const sink = options.sink ?? consoleSink;
  const min = options.debug ? ORDER.debug : ORDER.info;
  const pattern = secretPattern(options.secrets);
  const clean = (text: string) => redactWith(text, pattern);
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const time = new Date().toISOString();
    const id = currentRequestId();
    if (options.format === "json") {
      // JSON escapes every control character itself.
      sink(level, jsonLine(time, level, message, { request_id: id, ...fields }, clean));
      return;
    }
    const suffix = level === "debug" && id !== undefined ? ` id=${id}` : "";
    sink(level, `${time} ${level.toUpperCase()} ${escapeControls(clean(message))}${suffix}`);
  };
  return {
    debugEnabled: options.debug,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    excerpt: (text, max = 2000) => cut(clean(text), max),
  };
}
