/**
 * The parameter table: one row per Ollama `options` key, saying which upstream (OpenAI/vLLM)
 * field it becomes, what JSON type it must have, and which values mean "off" in Ollama (e.g.
 * `num_predict: -1`, `top_k: -1` sent by n8n) and so are not forwarded. Server-side defaults from
 * the config use the upstream names; a client option overrides its default and a client `null`
 * removes it. Options that have no upstream equivalent are reported, never silently dropped.
 */
import { ProxyError } from "./errors.ts";

/** JSON type a parameter value must have. */
export type ValueKind = "number" | "integer" | "boolean" | "string[]" | "integer[]" | "object";

/** Generation parameters the upstream understands (config `defaults` keys) and their types. */
export const UPSTREAM_PARAMS: Readonly<Record<string, ValueKind>> = {
  temperature: "number",
  top_p: "number",
  min_p: "number",
  top_k: "integer",
  seed: "integer",
  max_tokens: "integer",
  min_tokens: "integer",
  stop: "string[]",
  stop_token_ids: "integer[]",
  presence_penalty: "number",
  frequency_penalty: "number",
  repetition_penalty: "number",
  length_penalty: "number",
  logit_bias: "object",
  logprobs: "boolean",
  top_logprobs: "integer",
  prompt_logprobs: "integer",
  ignore_eos: "boolean",
  skip_special_tokens: "boolean",
  include_stop_str_in_output: "boolean",
  spaces_between_special_tokens: "boolean",
  response_format: "object",
};

interface OptionRow {
  upstream: string;
  /** True for values that mean "not set" in Ollama; such values are not forwarded. */
  off?: (value: number) => boolean;
}

const nonPositive = (v: number) => v <= 0;

/** Ollama option → upstream field. Upstream names are accepted in `options` as well. */
const OPTION_TABLE: Readonly<Record<string, OptionRow>> = {
  temperature: { upstream: "temperature" },
  top_p: { upstream: "top_p" },
  top_k: { upstream: "top_k", off: nonPositive },
  min_p: { upstream: "min_p" },
  num_predict: { upstream: "max_tokens", off: nonPositive },
  stop: { upstream: "stop" },
  seed: { upstream: "seed", off: (v) => v < 0 },
  repeat_penalty: { upstream: "repetition_penalty", off: nonPositive },
  presence_penalty: { upstream: "presence_penalty" },
  frequency_penalty: { upstream: "frequency_penalty" },
  ...Object.fromEntries(
    ["min_tokens", "max_tokens", "repetition_penalty", "length_penalty", "stop_token_ids"]
      .concat(["logit_bias", "ignore_eos", "skip_special_tokens", "include_stop_str_in_output"])
      .concat(["spaces_between_special_tokens", "prompt_logprobs"])
      .map((name) => [name, { upstream: name }]),
  ),
};

/** Ollama options that only steer a local runner (memory, threads, context) or that vLLM lacks. */
// deno-fmt-ignore
const NO_EQUIVALENT = new Set([
  "num_ctx", "num_keep", "num_batch", "num_gpu", "main_gpu", "use_mmap", "use_mlock",
  "num_thread", "numa", "low_vram", "f16_kv", "logits_all", "vocab_only", "embedding_only",
  "typical_p", "repeat_last_n", "penalize_newline", "tfs_z", "mirostat", "mirostat_tau",
  "mirostat_eta", "draft_num_predict",
]);

/** Result of mapping options: upstream fields plus the option names not forwarded, with why. */
export interface SamplingParams {
  params: Record<string, unknown>;
  ignored: string[];
}

/** Checks that `value` has `kind`, returning it normalised (integers truncated, a lone stop wrapped). */
export function checkValue(name: string, kind: ValueKind, value: unknown): unknown {
  const fail = (type: string) =>
    new ProxyError(400, `option "${name}" must be of type ${type}, got ${JSON.stringify(value)}`);
  switch (kind) {
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("number");
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail("integer");
      return Math.trunc(value);
    case "boolean":
      if (typeof value !== "boolean") throw fail("boolean");
      return value;
    case "string[]":
      if (typeof value === "string") return [value];
      if (!Array.isArray(value) || !value.every((s) => typeof s === "string")) {
        throw fail("array of strings");
      }
      return value;
    case "integer[]":
      if (!Array.isArray(value) || !value.every((n) => Number.isInteger(n))) {
        throw fail("array of integers");
      }
      return value;
    case "object":
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw fail("object");
      return value;
  }
}

/** Merges server defaults with the client's `options` into upstream sampling fields. */
export function toSamplingParams(
  defaults: Readonly<Record<string, unknown>>,
  options: Readonly<Record<string, unknown>> | undefined,
): SamplingParams {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(defaults)) {
    if (value !== null && value !== undefined) params[key] = structuredClone(value);
  }
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(options ?? {})) {
    const row = OPTION_TABLE[name];
    if (!row) {
      ignored.push(
        NO_EQUIVALENT.has(name) ? `${name} (no upstream equivalent)` : `${name} (unknown)`,
      );
      continue;
    }
    if (value === null) {
      delete params[row.upstream];
      continue;
    }
    const checked = checkValue(name, UPSTREAM_PARAMS[row.upstream] ?? "number", value);
    if (row.off && typeof checked === "number" && row.off(checked)) {
      ignored.push(`${name} (${checked} means unset)`);
      continue;
    }
    params[row.upstream] = checked;
  }
  return { params, ignored };
}
