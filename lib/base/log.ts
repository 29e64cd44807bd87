// deno-lint-ignore-file no-console
/**
 * Logging: the only module allowed to write to the console. Every line passes through
 * `redact`, which replaces each registered secret (the Chutes token and any proxy key)
 * with `[redacted]`, so a secret cannot leak even from a debug dump of a request.
 */

/** Severity, lowest first. `debug` lines appear only in debug mode. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A sink for one finished log line; tests pass one that collects lines. */
export type LogSink = (level: LogLevel, line: string) => void;

/** The logger handed to every module through the app's dependencies. */
export interface Logger {
  readonly debugEnabled: boolean;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
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

/** Creates a logger that writes `time level message` lines at or above the given level. */
export function createLogger(
  options: { debug: boolean; secrets: readonly string[]; sink?: LogSink },
): Logger {
  const sink = options.sink ?? consoleSink;
  const min = options.debug ? ORDER.debug : ORDER.info;
  const write = (level: LogLevel, message: string) => {
    if (ORDER[level] < min) return;
    sink(
      level,
      `${new Date().toISOString()} ${level.toUpperCase()} ${redact(message, options.secrets)}`,
    );
  };
  return {
    debugEnabled: options.debug,
    debug: (m) => write("debug", m),
    info: (m) => write("info", m),
    warn: (m) => write("warn", m),
    error: (m) => write("error", m),
  };
}
