/**
 * The generation parameters an OpenAI-compatible (vLLM/SGLang) upstream understands, with the
 * JSON type each must have: the keys of config `defaults`, and the target of every door's
 * option mapping. `checkValue` checks and normalises one value, with a 400 naming the option.
 */
import { ProxyError } from "../base/errors.ts";

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
