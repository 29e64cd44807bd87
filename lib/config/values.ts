/**
 * The checks one configuration value passes: each parser names the key and the bad value in its
 * `ConfigError`, and returns the value normalised (a base URL without a trailing slash, a bind
 * address split into host and port). Shared by the config file, the environment and the flags.
 */
import { checkValue, UPSTREAM_PARAMS } from "./params.ts";

/** A configuration problem found at start-up; the message names the key and the value. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export const fail = (key: string, value: unknown, expected: string): never => {
  throw new ConfigError(`config "${key}": ${expected}, got ${JSON.stringify(value)}`);
};

/** Normalises an upstream base URL: trims slashes and a trailing `/chat/completions`. */
export function normaliseBaseUrl(key: string, raw: unknown): string {
  if (typeof raw !== "string" || raw.trim() === "") return fail(key, raw, "expected a URL");
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return fail(key, raw, "expected an http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return fail(key, raw, "expected an http:// or https:// URL");
  }
  const path = url.pathname.replace(/\/+$/, "").replace(/\/(chat\/)?completions$/, "");
  return `${url.origin}${path}`;
}

/**
 * Parses a bind address the way Ollama reads `OLLAMA_HOST`: `[scheme://]host[:port][/path]`,
 * `[::1]:port` for IPv6; an explicit scheme without a port means 80/443.
 */
export function parseBindAddress(key: string, raw: string): { host: string; port: number } {
  let rest = raw.trim();
  let defaultPort = 11434;
  const scheme = /^([a-z]+):\/\//i.exec(rest);
  if (scheme) {
    defaultPort = scheme[1]!.toLowerCase() === "https" ? 443 : 80;
    rest = rest.slice(scheme[0].length);
  }
  rest = rest.replace(/\/.*$/, "");
  // A bare IPv6 address (`::1`) has no port, as in Ollama's fallback to net.ParseIP.
  if (!rest.startsWith("[") && rest.split(":").length > 2) return { host: rest, port: defaultPort };
  const m = /^(\[[^\]]+\]|[^:]*)(?::(.*))?$/.exec(rest);
  if (!m) return fail(key, raw, "expected host[:port]");
  const host = (m[1] ?? "").replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = m[2] === undefined ? defaultPort : parsePort(key, m[2]);
  return { host, port };
}

export function parsePort(key: string, raw: unknown): number {
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) {
    return fail(key, raw, "expected a port number 0-65535");
  }
  return n;
}

export function parseBool(key: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  return fail(key, raw, "expected true/false/1/0");
}

export type Check = (key: string, value: unknown) => unknown;

export const optionalString: Check = (k, v) =>
  v === null || typeof v === "string" ? v : fail(k, v, "expected a string or null");
export const stringList: Check = (k, v) =>
  Array.isArray(v) && v.every((s) => typeof s === "string" && s !== "")
    ? v
    : fail(k, v, "expected an array of non-empty strings");

/** The shortest access key accepted: a shorter one is guessable, and could appear inside words. */
export const MIN_KEY_LENGTH = 16;

/** Access keys: non-empty strings of 16+ characters; the error never prints a key. */
export const accessKeys: Check = (k, v) => {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string" && s.trim() !== "")) {
    throw new ConfigError(`config "${k}": expected an array of non-empty strings`);
  }
  const short = v.findIndex((key: string) => key.trim().length < MIN_KEY_LENGTH);
  if (short >= 0) {
    throw new ConfigError(
      `config "${k}": access key ${short + 1} of ${v.length} has ${
        (v[short] as string).trim().length
      } characters; keys need at least ${MIN_KEY_LENGTH} (a short key is quickly guessed). ` +
        "Make one with: openssl rand -hex 16",
    );
  }
  return v.map((key: string) => key.trim());
};

export const nonNegativeSeconds: Check = (k, v) =>
  typeof v === "number" && v >= 0 ? v : fail(k, v, "expected a number of seconds >= 0");
export const positiveSeconds: Check = (k, v) =>
  typeof v === "number" && v > 0 ? v : fail(k, v, "expected a number of seconds > 0");

export function checkUpstreams(key: string, value: unknown): UpstreamConfig[] {
  if (!Array.isArray(value)) return fail(key, value, "expected an array of upstreams");
  return value.map((raw, i) => {
    const at = `${key}[${i}]`;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      return fail(at, raw, "expected an object");
    }
    const u = raw as Record<string, unknown>;
    for (const k of Object.keys(u)) {
      if (!["name", "base_url", "api_token", "include", "exclude"].includes(k)) {
        return fail(
          `${at}.${k}`,
          u[k],
          "unknown key (known: name, base_url, api_token, include, exclude)",
        );
      }
    }
    if (typeof u.name !== "string" || u.name === "") {
      return fail(`${at}.name`, u.name, "expected a name");
    }
    return {
      name: u.name,
      base_url: normaliseBaseUrl(`${at}.base_url`, u.base_url),
      api_token: optionalString(`${at}.api_token`, u.api_token ?? null) as string | null,
      include: stringList(`${at}.include`, u.include ?? []) as string[],
      exclude: stringList(`${at}.exclude`, u.exclude ?? []) as string[],
    };
  });
}

export function checkDefaults(key: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail(key, value, "expected an object");
  }
  const out: Record<string, unknown> = unsetParams();
  for (const [name, v] of Object.entries(value)) {
    const kind = UPSTREAM_PARAMS[name];
    if (!kind) {
      return fail(
        `${key}.${name}`,
        v,
        `unknown parameter (known: ${Object.keys(UPSTREAM_PARAMS)})`,
      );
    }
    try {
      out[name] = v === null ? null : checkValue(name, kind, v);
    } catch (err) {
      const why = (err as Error).message.replace(/^option "[^"]+" /, "").replace(/, got .*$/s, "");
      return fail(`${key}.${name}`, v, why);
    }
  }
  return out;
}

/** `key_names`: a name for each access key, given as the start of the key's SHA-256 in hex. */
export function checkKeyNames(key: string, value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail(key, value, "expected an object of name → the key's SHA-256 hex prefix");
  }
  const out: Record<string, string> = {};
  for (const [name, prefix] of Object.entries(value)) {
    if (name.trim() === "") return fail(key, name, "expected a non-empty name");
    if (typeof prefix !== "string" || !/^[0-9a-f]{8,64}$/i.test(prefix)) {
      return fail(`${key}.${name}`, prefix, "expected 8 to 64 hex digits of the key's SHA-256");
    }
    out[name] = prefix.toLowerCase();
  }
  return out;
}

/** Every generation parameter, unset: the `defaults` a config without the key has. */
export function unsetParams(): Record<string, unknown> {
  return Object.fromEntries(Object.keys(UPSTREAM_PARAMS).map((k) => [k, null]));
}

/** One extra upstream as written in `config.json`. */
export interface UpstreamConfig {
  name: string;
  base_url: string;
  api_token: string | null;
  include: string[];
  exclude: string[];
}
