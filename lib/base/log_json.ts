/**
 * The `json` log format for journald, Loki and friends: one object per line with `time`,
 * `level`, `msg` and the line's fields (the access log's request id, door, route, model,
 * statuses, tokens, timings, key name, client address and error). Every string passes the
 * redaction before it is serialised, so a secret is replaced even where JSON would escape it.
 */
/** One JSON log line; `clean` redacts a string. Undefined fields are left out. */
export function jsonLine(
  time: string,
  level: string,
  message: string,
  fields: Record<string, unknown>,
  clean: (text: string) => string,
): string {
  const out: Record<string, unknown> = { time, level, msg: clean(message) };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = typeof value === "string" ? clean(value) : value;
  }
  return JSON.stringify(out);
}
