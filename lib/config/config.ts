/**
 * Configuration: built-in defaults ← `config.json` ← environment (with `.env`) ← CLI flags,
 * validated once and frozen. Every validation error names the key and the bad value. Inputs are
 * passed in (`env` as a record, file text as a string) so tests never touch the process state.
 */
import {
  accessKeys,
  type Check,
  checkDefaults,
  checkKeyNames,
  checkUpstreams,
  ConfigError,
  fail,
  nonNegativeSeconds,
  normaliseBaseUrl,
  optionalString,
  parsePort,
  positiveSeconds,
  stringList,
  unsetParams,
  type UpstreamConfig,
} from "./values.ts";

/** The validated configuration. Keys match `config.json`. */
export interface Config {
  readonly api_token: string;
  readonly base_url: string;
  readonly default_model: string | null;
  readonly host: string;
  readonly port: number;
  readonly default_system_prompt: string | null;
  readonly max_history_messages: number;
  readonly debug: boolean;
  readonly ollama_version: string;
  readonly models: readonly string[];
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly aliases: Readonly<Record<string, string>>;
  readonly catalogue_ttl_seconds: number;
  readonly embed_base_url: string;
  readonly origins: readonly string[];
  readonly api_keys: readonly string[];
  readonly allowed_hosts: readonly string[];
  readonly aliases_file: string | null;
  readonly retry_attempts: number;
  readonly retry_max_wait_seconds: number;
  readonly first_byte_timeout_seconds: number;
  readonly idle_timeout_seconds: number;
  readonly max_body_bytes: number;
  readonly upload_timeout_seconds: number;
  readonly context_guard: "trim" | "reject" | "off";
  readonly shutdown_grace_seconds: number;
  readonly fallbacks: Readonly<Record<string, readonly string[]>>;
  readonly upstreams: readonly UpstreamConfig[];
  readonly upstream_ca_file: string | null;
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly management_base_url: string;
  readonly warmup_timeout_seconds: number;
  readonly state_dir: string | null;
  readonly usage_retention_days: number;
  readonly log_format: "text" | "json";
  readonly key_names: Readonly<Record<string, string>>;
}

/** Default Chutes endpoint for chat/completions and the model list. */
export const DEFAULT_BASE_URL = "https://llm.chutes.ai/v1";

/** Chutes serves embeddings from its own host. */
export const DEFAULT_EMBED_BASE_URL = "https://embed.chutes.ai/v1";

/** Chutes' management API (account, quotas, utilisation, warm-up). */
export const DEFAULT_MANAGEMENT_BASE_URL = "https://api.chutes.ai";

/** Built-in defaults; `api_token` has none and `embed_base_url` is derived from `base_url`. */
export const DEFAULTS: Omit<Config, "api_token" | "embed_base_url"> & {
  api_token: string | null;
  embed_base_url: string | null;
} = {
  api_token: null,
  base_url: DEFAULT_BASE_URL,
  default_model: null,
  host: "127.0.0.1",
  port: 11434,
  default_system_prompt: null,
  max_history_messages: -1,
  debug: false,
  ollama_version: "0.32.6",
  models: [],
  include: [],
  exclude: [],
  aliases: {},
  catalogue_ttl_seconds: 300,
  embed_base_url: null,
  origins: [],
  api_keys: [],
  allowed_hosts: [],
  aliases_file: null,
  retry_attempts: 3,
  retry_max_wait_seconds: 15,
  first_byte_timeout_seconds: 120,
  idle_timeout_seconds: 120,
  max_body_bytes: 64 * 1024 * 1024,
  upload_timeout_seconds: 60,
  context_guard: "trim",
  shutdown_grace_seconds: 10,
  fallbacks: {},
  upstreams: [],
  upstream_ca_file: null,
  defaults: unsetParams(),
  management_base_url: DEFAULT_MANAGEMENT_BASE_URL,
  warmup_timeout_seconds: 300,
  state_dir: null,
  usage_retention_days: 90,
  log_format: "text",
  key_names: {},
};

/** How each key of `config.json` is checked (and normalised). */
const CHECKS: Record<keyof Config, Check> = {
  api_token: optionalString,
  base_url: normaliseBaseUrl,
  default_model: optionalString,
  host: (k, v) =>
    typeof v === "string" && v.trim() !== "" ? v.trim() : fail(k, v, "expected a host"),
  port: parsePort,
  default_system_prompt: optionalString,
  max_history_messages: (k, v) =>
    v === -1 || (Number.isInteger(v) && (v as number) >= 1)
      ? v
      : fail(k, v, "expected -1 (unlimited) or an integer >= 1"),
  debug: (k, v) => typeof v === "boolean" ? v : fail(k, v, "expected true or false"),
  ollama_version: (k, v) =>
    typeof v === "string" && /^\d+\.\d+\.\d+$/.test(v) ? v : fail(k, v, "expected x.y.z digits"),
  models: stringList,
  include: stringList,
  exclude: stringList,
  aliases: (k, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v) &&
      Object.values(v).every((t) => typeof t === "string" && t !== "")
      ? v
      : fail(k, v, "expected an object of alias → model id"),
  catalogue_ttl_seconds: (k, v) =>
    typeof v === "number" && v >= 0 ? v : fail(k, v, "expected a number of seconds >= 0"),
  defaults: checkDefaults,
  embed_base_url: (k, v) => v === null ? null : normaliseBaseUrl(k, v),
  origins: (k, v) =>
    Array.isArray(v) && v.every((s) => typeof s === "string")
      ? v
      : fail(k, v, "expected an array of origins"),
  api_keys: accessKeys,
  allowed_hosts: stringList,
  aliases_file: optionalString,
  retry_attempts: (k, v) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10
      ? v
      : fail(k, v, "expected an integer 1-10"),
  retry_max_wait_seconds: nonNegativeSeconds,
  first_byte_timeout_seconds: positiveSeconds,
  idle_timeout_seconds: positiveSeconds,
  max_body_bytes: (k, v) =>
    Number.isInteger(v) && (v as number) >= 1024 ? v : fail(k, v, "expected a byte count >= 1024"),
  upload_timeout_seconds: positiveSeconds,
  context_guard: (k, v) =>
    v === "trim" || v === "reject" || v === "off"
      ? v
      : fail(k, v, 'expected "trim", "reject" or "off"'),
  shutdown_grace_seconds: nonNegativeSeconds,
  fallbacks: (k, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v) &&
      Object.values(v).every((list) =>
        Array.isArray(list) && list.every((m) => typeof m === "string" && m !== "")
      )
      ? v
      : fail(k, v, "expected an object of model → [fallback models]"),
  upstreams: checkUpstreams,
  upstream_ca_file: optionalString,
  management_base_url: normaliseBaseUrl,
  warmup_timeout_seconds: positiveSeconds,
  state_dir: optionalString,
  usage_retention_days: (k, v) =>
    Number.isInteger(v) && (v as number) >= 1 ? v : fail(k, v, "expected a number of days >= 1"),
  log_format: (k, v) => v === "text" || v === "json" ? v : fail(k, v, 'expected "text" or "json"'),
  key_names: checkKeyNames,
};

/** Checks the keys of a parsed `config.json` object; `_`-prefixed keys are comments. */
export function checkFileConfig(
  raw: unknown,
  path: string,
): Partial<Record<keyof Config, unknown>> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${path}: expected a JSON object`);
  }
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith("_") || key === "$schema") continue;
    if (!(key in CHECKS)) {
      throw new ConfigError(`${path}: unknown key "${key}" (known: ${Object.keys(CHECKS)})`);
    }
    out[key as keyof Config] = value;
  }
  return out;
}

/** Where the demo upstream lives (lib/demo/): a `.invalid` host no real server could answer. */
export const DEMO_BASE_URL = "http://demo.invalid/v1";

/** The demo's management API: the same `.invalid` host, so the account view stays off. */
export const DEMO_MANAGEMENT_URL = "http://demo.invalid";

/** Stands in for the Chutes token in demo mode; only the in-process demo upstream sees it. */
export const DEMO_TOKEN = "demo-mode-placeholder-token";

/**
 * What `--demo` puts over every other source: the built-in demo upstream (lib/demo/demo.ts) with its
 * placeholder token, and no setting that names real models or other upstreams.
 */
export const DEMO_OVERRIDES: Partial<Record<keyof Config, unknown>> = {
  api_token: DEMO_TOKEN,
  base_url: DEMO_BASE_URL,
  embed_base_url: DEMO_BASE_URL,
  upstreams: [],
  include: [],
  exclude: [],
  models: [],
  default_model: null,
  aliases: {},
  fallbacks: {},
  management_base_url: DEMO_MANAGEMENT_URL,
};

/**
 * Validates merged raw values into a frozen `Config`; the token is required, except with
 * `demo`, which replaces the upstream settings by `DEMO_OVERRIDES`.
 */
export function validateConfig(
  raw: Partial<Record<keyof Config, unknown>>,
  options: { demo?: boolean } = {},
): Config {
  const merged: Record<string, unknown> = {
    ...DEFAULTS,
    ...raw,
    ...(options.demo ? DEMO_OVERRIDES : {}),
  };
  for (const [key, check] of Object.entries(CHECKS)) merged[key] = check(key, merged[key]);
  const token = typeof merged.api_token === "string" ? merged.api_token.trim() : "";
  if (token === "") {
    throw new ConfigError(
      "no Chutes API token: set CHUTES_API_TOKEN (or CHUTES_API_KEY) in the environment or in " +
        '.env, or "api_token" in config.json. Get a token at https://chutes.ai (API keys).',
    );
  }
  merged.api_token = token;
  // Chutes serves embeddings from embed.chutes.ai; any other upstream serves them itself.
  merged.embed_base_url ??= merged.base_url === DEFAULT_BASE_URL
    ? DEFAULT_EMBED_BASE_URL
    : merged.base_url;
  return deepFreeze(merged) as unknown as Config;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
