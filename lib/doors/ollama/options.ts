/**
 * The parameter table: one row per Ollama `options` key, saying which upstream (OpenAI/vLLM)
 * field it becomes, what JSON type it must have, and which values mean "off" in Ollama (e.g.
 * `num_predict: -1`, `top_k: -1` sent by n8n) and so are not forwarded. Server-side defaults from
 * the config use the upstream names; a client option overrides its default and a client `null`
 * removes it. Options that have no upstream equivalent are reported, never silently dropped.
 */
import { checkValue, UPSTREAM_PARAMS } from "../../config/params.ts";

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
