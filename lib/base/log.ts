// deno-lint-ignore-file no-console
/**
 * Logging: the only module allowed to write to the console. Every line passes through
 * `redact`, which replaces each registered secret (the Chutes token and any proxy key)
 * with `[redacted]`, so a secret cannot leak even from a debug dump of a request.
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
}

const consoleSink: LogSink = (level, line) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};

/** Replaces every occurrence of each secret (ignoring blanks) with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("[redacted]");
  }
  return out;
}

/** Cuts a long text (a request body in debug mode) to `max` characters, saying how much was cut. */
export function truncateForLog(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
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
  const clean = (text: string) => redact(text, options.secrets);
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const time = new Date().toISOString();
    const id = currentRequestId();
    if (options.format === "json") {
      sink(level, jsonLine(time, level, message, { request_id: id, ...fields }, clean));
      return;
    }
    const suffix = level === "debug" && id !== undefined ? ` id=${id}` : "";
    sink(level, `${time} ${level.toUpperCase()} ${clean(message)}${suffix}`);
  };
  return {
    debugEnabled: options.debug,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}
