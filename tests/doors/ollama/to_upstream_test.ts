/**
 * Tests for the pure translation of Ollama requests into upstream bodies
 * (`lib/doors/ollama/to_upstream.ts`); the conversation policy (default
 * system prompt, history limit) is the core's, tested in tests/core/policy_test.ts. Each case asserts the exact upstream body, because that body is
 * what Chutes validates: arguments as JSON strings, tool results paired with call ids, thinking
 * switches, response formats and the sampling parameters.
 */
import assert from "node:assert/strict";
import { type Config, DEFAULTS } from "../../../lib/config/config.ts";
import { ProxyError } from "../../../lib/base/errors.ts";
import type {
  ChatRequest,
  GenerateRequest,
  OllamaMessage,
} from "../../../lib/doors/ollama/types.ts";
import {
  toOpenAIChatRequest,
  toOpenAIGenerateRequest,
  toOpenAIMessages,
} from "../../../lib/doors/ollama/to_upstream.ts";

type Policy = Pick<Config, "defaults" | "default_system_prompt" | "max_history_messages">;

const POLICY: Policy = {
  defaults: DEFAULTS.defaults,
  default_system_prompt: null,
  max_history_messages: -1,
};

const MODEL = "Qwen/Qwen3-32B";
const STREAM = { stream: true, stream_options: { include_usage: true } };
const PNG = btoa(String.fromCharCode(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13));
const GIF = btoa("GIF89a\x01\x00\x01\x00");
const UNKNOWN = btoa("plain text, not an image");

const chat = (messages: OllamaMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "qwen",
  stream: true,
  messages,
  ...extra,
});
const generate = (extra: Partial<GenerateRequest>): GenerateRequest => ({
  model: "qwen",
  stream: true,
  prompt: "hi",
  raw: false,
  ...extra,
});

Deno.test("plain chat", () => {
  const out = toOpenAIChatRequest(
    chat([{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }], {
      stream: false,
    }),
    MODEL,
    POLICY,
  );
  assert.deepEqual(out, {
    path: "/chat/completions",
    body: {
      model: MODEL,
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }],
      ...STREAM,
    },
    ignored: [],
  });
});

Deno.test("images become image_url data-URL parts with the sniffed MIME type", async (t) => {
  const cases: { name: string; message: OllamaMessage; content: unknown }[] = [
    {
      name: "text and two images",
      message: { role: "user", content: "Compare", images: [PNG, GIF] },
      content: [
        { type: "text", text: "Compare" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: "image_url", image_url: { url: `data:image/gif;base64,${GIF}` } },
      ],
    },
    {
      name: "image only: no empty text part",
      message: { role: "user", content: "", images: [UNKNOWN] },
      content: [{ type: "image_url", image_url: { url: `data:image/jpeg;base64,${UNKNOWN}` } }],
    },
    {
      name: "client data URL kept",
      message: { role: "user", content: "x", images: [`data:image/webp;base64,${PNG}`] },
      content: [
        { type: "text", text: "x" },
        { type: "image_url", image_url: { url: `data:image/webp;base64,${PNG}` } },
      ],
    },
    {
      name: "OpenAI parts pass through, images appended",
      message: {
        role: "user",
        content: "",
        parts: [{ type: "text", text: "What?" }],
        images: [PNG],
      },
      content: [
        { type: "text", text: "What?" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
      ],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const { body } = toOpenAIChatRequest(chat([c.message]), MODEL, POLICY);
      assert.deepEqual(body, {
        model: MODEL,
        messages: [{ role: "user", content: c.content }],
        ...STREAM,
      });
    });
  }
});

Deno.test("assistant tool calls: object arguments become JSON strings with ids", () => {
  const messages: OllamaMessage[] = [
    { role: "user", content: "Weather in Paris and Rome?" },
    {
      role: "assistant",
      content: "",
      tool_calls: [
        { name: "get_weather", arguments: { city: "Paris", days: 2 } },
        { id: "call_abc", name: "get_weather", arguments: '{"city":"Rome"}' },
      ],
    },
  ];
  assert.deepEqual(toOpenAIMessages(messages), [
    { role: "user", content: "Weather in Paris and Rome?" },
    {
      role: "assistant",
      content: "",
      tool_calls: [
        {
          id: "call_1_0",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris","days":2}' },
        },
        {
          id: "call_abc",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Rome"}' },
        },
      ],
    },
  ]);
});

Deno.test("string tool-call arguments that are not JSON are a 400 naming the path", () => {
  assert.throws(
    () =>
      toOpenAIMessages([
        { role: "user", content: "x" },
        { role: "assistant", content: "", tool_calls: [{ name: "f", arguments: "{city:" }] },
      ]),
    (err: unknown) =>
      err instanceof ProxyError && err.status === 400 &&
      err.message.includes("messages[1].tool_calls[0].function.arguments"),
  );
});

Deno.test("tool results are paired with their call ids", async (t) => {
  const calls: OllamaMessage = {
    role: "assistant",
    content: "",
    tool_calls: [
      { id: "id_w", name: "weather", arguments: {} },
      { id: "id_t", name: "time", arguments: {} },
    ],
  };
  const anonymous: OllamaMessage = {
    role: "assistant",
    content: "",
    tool_calls: [{ name: "weather", arguments: {} }, { name: "time", arguments: {} }],
  };
  const call = (id: string, name: string) => ({
    id,
    type: "function",
    function: { name, arguments: "{}" },
  });
  /** The translated assistant turn that made `tool_calls`. */
  const asked = (...tool_calls: unknown[]) => ({ role: "assistant", content: "", tool_calls });
  const cases: { name: string; messages: OllamaMessage[]; want: unknown[] }[] = [
    {
      name: "by tool_call_id, out of order",
      messages: [
        calls,
        { role: "tool", content: "12:00", tool_call_id: "id_t" },
        { role: "tool", content: "sunny", tool_call_id: "id_w" },
      ],
      want: [
        asked(call("id_w", "weather"), call("id_t", "time")),
        { role: "tool", content: "12:00", tool_call_id: "id_t", name: "time" },
        { role: "tool", content: "sunny", tool_call_id: "id_w", name: "weather" },
      ],
    },
    {
      name: "by tool_name, out of order",
      messages: [
        anonymous,
        { role: "tool", content: "12:00", tool_name: "time" },
        { role: "tool", content: "sunny", tool_name: "weather" },
      ],
      want: [
        asked(call("call_0_0", "weather"), call("call_0_1", "time")),
        { role: "tool", content: "12:00", tool_call_id: "call_0_1", name: "time" },
        { role: "tool", content: "sunny", tool_call_id: "call_0_0", name: "weather" },
      ],
    },
    {
      name: "by order when the result names nothing",
      messages: [
        anonymous,
        { role: "tool", content: "sunny" },
        { role: "tool", content: "12:00" },
      ],
      want: [
        asked(call("call_0_0", "weather"), call("call_0_1", "time")),
        { role: "tool", content: "sunny", tool_call_id: "call_0_0", name: "weather" },
        { role: "tool", content: "12:00", tool_call_id: "call_0_1", name: "time" },
      ],
    },
    {
      name: "a result with no call left gets an orphan id",
      messages: [{ role: "tool", content: "late", tool_name: "weather" }],
      want: [{ role: "tool", content: "late", tool_call_id: "call_0_orphan", name: "weather" }],
    },
    {
      name: "an unknown tool_call_id is kept as sent",
      messages: [calls, { role: "tool", content: "x", tool_call_id: "id_zzz" }],
      want: [
        asked(call("id_w", "weather"), call("id_t", "time")),
        { role: "tool", content: "x", tool_call_id: "id_zzz" },
      ],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assert.deepEqual(toOpenAIMessages(c.messages), c.want));
  }
});

Deno.test("think becomes chat_template_kwargs and reasoning_effort", async (t) => {
  const on = { chat_template_kwargs: { thinking: true, enable_thinking: true } };
  const cases: [ChatRequest["think"], Record<string, unknown>][] = [
    [undefined, {}],
    [true, on],
    [false, { chat_template_kwargs: { thinking: false, enable_thinking: false } }],
    ["low", { ...on, reasoning_effort: "low" }],
    ["medium", { ...on, reasoning_effort: "medium" }],
    ["high", { ...on, reasoning_effort: "high" }],
    ["max", { ...on, reasoning_effort: "high" }],
  ];
  for (const [think, extra] of cases) {
    await t.step(JSON.stringify(think) ?? "absent", () => {
      const req = chat([{ role: "user", content: "q" }], think === undefined ? {} : { think });
      assert.deepEqual(toOpenAIChatRequest(req, MODEL, POLICY).body, {
        model: MODEL,
        messages: [{ role: "user", content: "q" }],
        ...STREAM,
        ...extra,
      });
    });
  }
});

Deno.test("format becomes response_format", async (t) => {
  const schema = { type: "object", properties: { age: { type: "integer" } }, required: ["age"] };
  const cases: [ChatRequest["format"], Record<string, unknown>][] = [
    ["json", { response_format: { type: "json_object" } }],
    [schema, {
      response_format: { type: "json_schema", json_schema: { name: "schema", schema } },
    }],
  ];
  for (const [format, extra] of cases) {
    await t.step(JSON.stringify(format), () => {
      const req = chat([{ role: "user", content: "q" }], format === undefined ? {} : { format });
      assert.deepEqual(toOpenAIChatRequest(req, MODEL, POLICY).body, {
        model: MODEL,
        messages: [{ role: "user", content: "q" }],
        ...STREAM,
        ...extra,
      });
    });
  }
});

Deno.test("logprobs and top_logprobs", async (t) => {
  const cases: [Partial<ChatRequest>, Record<string, unknown>][] = [
    [{ logprobs: true, top_logprobs: 3 }, { logprobs: true, top_logprobs: 3 }],
    [{ logprobs: true, top_logprobs: 0 }, { logprobs: true }],
    [{ logprobs: true }, { logprobs: true }],
    [{ logprobs: false, top_logprobs: 5 }, {}],
  ];
  for (const [extra, want] of cases) {
    await t.step(JSON.stringify(extra), () => {
      const { body } = toOpenAIChatRequest(
        chat([{ role: "user", content: "q" }], extra),
        MODEL,
        POLICY,
      );
      assert.deepEqual(body, {
        model: MODEL,
        messages: [{ role: "user", content: "q" }],
        ...STREAM,
        ...want,
      });
    });
  }
});

Deno.test("server defaults and client options merge; unforwardable options are reported", () => {
  const policy: Policy = {
    ...POLICY,
    defaults: { ...DEFAULTS.defaults, temperature: 0.6, max_tokens: 512, top_p: 0.95 },
  };
  const req = chat([{ role: "user", content: "q" }], {
    options: { num_predict: 100, top_k: 20, top_p: null, num_ctx: 8192, seed: -1 },
  });
  assert.deepEqual(toOpenAIChatRequest(req, MODEL, policy), {
    path: "/chat/completions",
    body: {
      model: MODEL,
      messages: [{ role: "user", content: "q" }],
      ...STREAM,
      temperature: 0.6,
      max_tokens: 100,
      top_k: 20,
    },
    ignored: ["num_ctx (no upstream equivalent)", "seed (-1 means unset)"],
  });
});

Deno.test("tools are forwarded; stream and include_usage cannot be overridden", () => {
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  const req = chat([{ role: "user", content: "q" }], { tools, stream: false });
  const { body } = toOpenAIChatRequest(req, MODEL, POLICY);
  assert.deepEqual(body, {
    model: MODEL,
    messages: [{ role: "user", content: "q" }],
    ...STREAM,
    tools,
  });
});

Deno.test("generate: system, prompt and images become messages", async (t) => {
  const cases: { name: string; req: GenerateRequest; policy: Policy; messages: unknown[] }[] = [
    {
      name: "prompt only",
      req: generate({}),
      policy: POLICY,
      messages: [{ role: "user", content: "hi" }],
    },
    {
      name: "system and prompt",
      req: generate({ system: "S" }),
      policy: POLICY,
      messages: [{ role: "system", content: "S" }, { role: "user", content: "hi" }],
    },
    {
      name: "images",
      req: generate({ prompt: "describe", images: [PNG] }),
      policy: POLICY,
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "describe" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      }],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      assert.deepEqual(toOpenAIGenerateRequest(c.req, MODEL, c.policy), {
        path: "/chat/completions",
        body: { model: MODEL, messages: c.messages, ...STREAM },
        ignored: [],
      });
    });
  }
});

Deno.test("generate: options, think and format apply as for chat", () => {
  const out = toOpenAIGenerateRequest(
    generate({ options: { temperature: 0.1 }, think: "max", format: "json" }),
    MODEL,
    POLICY,
  );
  assert.deepEqual(out.body, {
    model: MODEL,
    messages: [{ role: "user", content: "hi" }],
    ...STREAM,
    temperature: 0.1,
    chat_template_kwargs: { thinking: true, enable_thinking: true },
    reasoning_effort: "high",
    response_format: { type: "json_object" },
  });
});

Deno.test("generate raw: /completions with the prompt as sent", async (t) => {
  const withDefault: Policy = {
    ...POLICY,
    default_system_prompt: "DEF",
    defaults: { ...DEFAULTS.defaults, temperature: 0.3 },
  };
  await t.step("prompt and options", () => {
    assert.deepEqual(
      toOpenAIGenerateRequest(
        generate({ prompt: "<s>[INST] hi [/INST]", raw: true, options: { num_predict: 8 } }),
        MODEL,
        withDefault,
      ),
      {
        path: "/completions",
        body: {
          model: MODEL,
          prompt: "<s>[INST] hi [/INST]",
          ...STREAM,
          temperature: 0.3,
          max_tokens: 8,
        },
        ignored: [],
      },
    );
  });
  await t.step("images are reported as not sent", () => {
    const out = toOpenAIGenerateRequest(generate({ raw: true, images: [PNG] }), MODEL, POLICY);
    assert.deepEqual(out.body, { model: MODEL, prompt: "hi", ...STREAM });
    assert.deepEqual(out.ignored, ["images (raw mode sends text only)"]);
  });
});

Deno.test("generate: suffix, template and context are reported as ignored", () => {
  const out = toOpenAIGenerateRequest(
    generate({
      suffix: "return x",
      template: "{{ .Prompt }}",
      context: [1, 2, 3],
      options: { num_gpu: 1 },
    }),
    MODEL,
    POLICY,
  );
  assert.deepEqual(out.body, {
    model: MODEL,
    messages: [{ role: "user", content: "hi" }],
    ...STREAM,
  });
  assert.equal(out.ignored.length, 4, out.ignored.join("; "));
  assert.equal(out.ignored[0], "num_gpu (no upstream equivalent)");
  assert.match(out.ignored[1]!, /^suffix \(/);
  assert.match(out.ignored[2]!, /^template \(/);
  assert.match(out.ignored[3]!, /^context \(/);
});

Deno.test("generate raw: a suffix is reported as ignored", () => {
  const out = toOpenAIGenerateRequest(generate({ raw: true, suffix: "}" }), MODEL, POLICY);
  assert.deepEqual(out.body, { model: MODEL, prompt: "hi", ...STREAM });
  assert.equal(out.ignored.length, 1);
  assert.match(out.ignored[0]!, /^suffix \(/);
});
