/**
 * Tests for the parameter table (`lib/doors/ollama/options.ts`): one case per Ollama option row, the "off"
 * values that are not forwarded, options with no upstream equivalent, server defaults and how a
 * client option overrides or removes them, and 400s that name the option.
 */
import assert from "node:assert/strict";
import { ProxyError } from "../../../lib/base/errors.ts";
import { toSamplingParams } from "../../../lib/doors/ollama/options.ts";
import { checkValue, UPSTREAM_PARAMS } from "../../../lib/config/params.ts";

/** All-null defaults, as the config builds them when `defaults` is absent. */
const NO_DEFAULTS: Record<string, unknown> = Object.fromEntries(
  Object.keys(UPSTREAM_PARAMS).map((k) => [k, null]),
);

Deno.test("each option row maps to its upstream field", async (t) => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["temperature", { temperature: 0.7 }, { temperature: 0.7 }],
    ["temperature 0 is forwarded", { temperature: 0 }, { temperature: 0 }],
    ["top_p", { top_p: 0.9 }, { top_p: 0.9 }],
    ["top_k", { top_k: 40 }, { top_k: 40 }],
    ["top_k fractional is truncated", { top_k: 40.9 }, { top_k: 40 }],
    ["min_p", { min_p: 0.05 }, { min_p: 0.05 }],
    ["num_predict → max_tokens", { num_predict: 128 }, { max_tokens: 128 }],
    ["stop array", { stop: ["\n\n", "User:"] }, { stop: ["\n\n", "User:"] }],
    ["stop lone string is wrapped", { stop: "END" }, { stop: ["END"] }],
    ["seed", { seed: 42 }, { seed: 42 }],
    ["seed 0 is forwarded", { seed: 0 }, { seed: 0 }],
    ["repeat_penalty → repetition_penalty", { repeat_penalty: 1.1 }, { repetition_penalty: 1.1 }],
    ["presence_penalty", { presence_penalty: 0.5 }, { presence_penalty: 0.5 }],
    ["frequency_penalty", { frequency_penalty: -0.5 }, { frequency_penalty: -0.5 }],
    ["min_tokens (upstream name)", { min_tokens: 5 }, { min_tokens: 5 }],
    ["max_tokens (upstream name)", { max_tokens: 64 }, { max_tokens: 64 }],
    ["repetition_penalty (upstream name)", { repetition_penalty: 1.2 }, {
      repetition_penalty: 1.2,
    }],
    ["length_penalty", { length_penalty: 1.5 }, { length_penalty: 1.5 }],
    ["stop_token_ids", { stop_token_ids: [1, 2] }, { stop_token_ids: [1, 2] }],
    ["logit_bias", { logit_bias: { "50256": -100 } }, { logit_bias: { "50256": -100 } }],
    ["ignore_eos", { ignore_eos: true }, { ignore_eos: true }],
    ["skip_special_tokens", { skip_special_tokens: false }, { skip_special_tokens: false }],
    ["include_stop_str_in_output", { include_stop_str_in_output: true }, {
      include_stop_str_in_output: true,
    }],
    ["spaces_between_special_tokens", { spaces_between_special_tokens: false }, {
      spaces_between_special_tokens: false,
    }],
    ["prompt_logprobs", { prompt_logprobs: 2 }, { prompt_logprobs: 2 }],
  ];
  for (const [name, options, want] of cases) {
    await t.step(name, () => {
      assert.deepEqual(toSamplingParams(NO_DEFAULTS, options), { params: want, ignored: [] });
    });
  }
});

Deno.test("'off' values are not forwarded and are reported", async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ num_predict: -1 }, "num_predict (-1 means unset)"],
    [{ num_predict: -2 }, "num_predict (-2 means unset)"],
    [{ top_k: -1 }, "top_k (-1 means unset)"],
    [{ top_k: 0 }, "top_k (0 means unset)"],
    [{ seed: -1 }, "seed (-1 means unset)"],
    [{ repeat_penalty: 0 }, "repeat_penalty (0 means unset)"],
  ];
  for (const [options, why] of cases) {
    await t.step(JSON.stringify(options), () => {
      assert.deepEqual(toSamplingParams(NO_DEFAULTS, options), { params: {}, ignored: [why] });
    });
  }
});

Deno.test("load-time and runner options are reported as having no upstream equivalent", async (t) => {
  const names = [
    "num_ctx",
    "num_keep",
    "num_batch",
    "num_gpu",
    "main_gpu",
    "use_mmap",
    "use_mlock",
    "num_thread",
    "numa",
    "low_vram",
    "typical_p",
    "repeat_last_n",
    "penalize_newline",
    "tfs_z",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
  ];
  for (const name of names) {
    await t.step(name, () => {
      assert.deepEqual(toSamplingParams(NO_DEFAULTS, { [name]: 1 }), {
        params: {},
        ignored: [`${name} (no upstream equivalent)`],
      });
    });
  }
});

Deno.test("unknown options are reported, the rest still forwarded", () => {
  assert.deepEqual(
    toSamplingParams(NO_DEFAULTS, { temperature: 0.2, frobnicate: 3, num_ctx: 8192 }),
    {
      params: { temperature: 0.2 },
      ignored: ["frobnicate (unknown)", "num_ctx (no upstream equivalent)"],
    },
  );
});

Deno.test("server defaults, client overrides and client null", async (t) => {
  const defaults = { ...NO_DEFAULTS, temperature: 0.6, max_tokens: 512, stop: ["</s>"] };
  const cases: {
    name: string;
    options: Record<string, unknown> | undefined;
    want: Record<string, unknown>;
  }[] = [
    {
      name: "defaults apply with no options",
      options: undefined,
      want: { temperature: 0.6, max_tokens: 512, stop: ["</s>"] },
    },
    {
      name: "defaults apply with empty options",
      options: {},
      want: { temperature: 0.6, max_tokens: 512, stop: ["</s>"] },
    },
    {
      name: "a client option overrides its default",
      options: { temperature: 0.1, num_predict: 16 },
      want: { temperature: 0.1, max_tokens: 16, stop: ["</s>"] },
    },
    {
      name: "a client null removes a default (Ollama name)",
      options: { num_predict: null, stop: null },
      want: { temperature: 0.6 },
    },
    {
      name: "a client null removes a default (upstream name)",
      options: { temperature: null, max_tokens: null },
      want: { stop: ["</s>"] },
    },
    {
      name: "a client null for an option with no default is harmless",
      options: { top_k: null },
      want: { temperature: 0.6, max_tokens: 512, stop: ["</s>"] },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      assert.deepEqual(toSamplingParams(defaults, c.options), { params: c.want, ignored: [] });
    });
  }
});

Deno.test("defaults are copied, never shared with the result", () => {
  const defaults = { ...NO_DEFAULTS, stop: ["</s>"] };
  const { params } = toSamplingParams(defaults, {});
  (params.stop as string[]).push("mutated");
  assert.deepEqual(defaults.stop, ["</s>"]);
});

Deno.test("wrong types are a 400 naming the option", async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ temperature: "hot" }, "temperature"],
    [{ temperature: true }, "temperature"],
    [{ top_p: [0.9] }, "top_p"],
    [{ top_k: "40" }, "top_k"],
    [{ num_predict: "100" }, "num_predict"],
    [{ seed: {} }, "seed"],
    [{ stop: [1, 2] }, "stop"],
    [{ stop: 5 }, "stop"],
    [{ repeat_penalty: "1.1" }, "repeat_penalty"],
    [{ stop_token_ids: [1.5] }, "stop_token_ids"],
    [{ logit_bias: [] }, "logit_bias"],
    [{ ignore_eos: "yes" }, "ignore_eos"],
    [{ temperature: Infinity }, "temperature"],
  ];
  for (const [options, name] of cases) {
    await t.step(JSON.stringify(options), () => {
      assert.throws(
        () => toSamplingParams(NO_DEFAULTS, options),
        (err: unknown) =>
          err instanceof ProxyError && err.status === 400 &&
          err.message.includes(`"${name}"`),
      );
    });
  }
});

Deno.test("checkValue normalises by kind", async (t) => {
  const cases: [Parameters<typeof checkValue>[1], unknown, unknown][] = [
    ["number", 1.5, 1.5],
    ["integer", 7.8, 7],
    ["integer", -7.8, -7],
    ["boolean", false, false],
    ["string[]", "x", ["x"]],
    ["string[]", [], []],
    ["integer[]", [3], [3]],
    ["object", { a: 1 }, { a: 1 }],
  ];
  for (const [kind, value, want] of cases) {
    await t.step(`${kind} ${JSON.stringify(value)}`, () => {
      assert.deepEqual(checkValue("p", kind, value), want);
    });
  }
  assert.throws(() => checkValue("p", "object", null), /"p" must be of type object, got null/);
});
