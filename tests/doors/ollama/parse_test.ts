/**
 * Tests for the boundary parsers (`lib/doors/ollama/parse.ts`, `lib/doors/ollama/types.ts`): what real
 * clients send is accepted, and everything else is a 400 whose message names the field, using
 * Ollama's own wording where Ollama has one.
 */
import assert from "node:assert/strict";
import { ProxyError } from "../../../lib/base/errors.ts";
import { parseJsonObject, parseKeepAlive } from "../../../lib/doors/ollama/types.ts";
import { parseChatRequest, parseGenerateRequest } from "../../../lib/doors/ollama/parse.ts";

const PNG = btoa(String.fromCharCode(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0));

/** Asserts `fn` throws a 400 `ProxyError` whose message contains `fragment`. */
function throws400(fn: () => unknown, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProxyError, `expected ProxyError, got ${err}`);
    assert.equal(err.status, 400);
    assert.ok(
      err.message.includes(fragment),
      `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`,
    );
    return true;
  });
}

const chat = (extra: Record<string, unknown>) =>
  parseChatRequest({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra });

Deno.test("a minimal chat request", () => {
  assert.deepEqual(parseChatRequest({ model: " qwen3 ", messages: [] }), {
    model: "qwen3",
    stream: true,
    messages: [],
  });
  assert.deepEqual(parseChatRequest({}), { model: "", stream: true, messages: [] });
  assert.equal(chat({ stream: false }).stream, false);
});

Deno.test("message roles are lower-cased", async (t) => {
  for (const [raw, want] of [["USER", "user"], ["TOOl", "tool"], ["Assistant", "assistant"]]) {
    await t.step(raw!, () => {
      const req = parseChatRequest({ messages: [{ role: raw, content: "x" }] });
      assert.equal(req.messages[0]?.role, want);
    });
  }
});

Deno.test("messages are read the way clients send them", async (t) => {
  const cases: { name: string; message: Record<string, unknown>; want: unknown }[] = [
    {
      name: "content null beside tool calls",
      message: {
        role: "assistant",
        content: null,
        tool_calls: [{ function: { name: "f", arguments: { a: 1 } } }],
      },
      want: { role: "assistant", content: "", tool_calls: [{ name: "f", arguments: { a: 1 } }] },
    },
    {
      name: "content absent",
      message: { role: "assistant" },
      want: { role: "assistant", content: "" },
    },
    {
      name: "OpenAI content array kept in parts",
      message: {
        role: "user",
        content: [{ type: "text", text: "what is this?" }, {
          type: "image_url",
          image_url: { url: "data:image/png;base64,AAAA" },
        }],
      },
      want: {
        role: "user",
        content: "",
        parts: [{ type: "text", text: "what is this?" }, {
          type: "image_url",
          image_url: { url: "data:image/png;base64,AAAA" },
        }],
      },
    },
    {
      name: "tool-call arguments as a JSON string, with an id",
      message: {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "call_1", function: { name: "f", arguments: '{"a":1}' } }],
      },
      want: {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "call_1", name: "f", arguments: '{"a":1}' }],
      },
    },
    {
      name: "tool-call arguments missing become {}",
      message: { role: "assistant", content: "", tool_calls: [{ function: { name: "f" } }] },
      want: { role: "assistant", content: "", tool_calls: [{ name: "f", arguments: {} }] },
    },
    {
      name: "empty tool_calls dropped",
      message: { role: "assistant", content: "ok", tool_calls: [] },
      want: { role: "assistant", content: "ok" },
    },
    {
      name: "tool result with tool_name and tool_call_id",
      message: { role: "tool", content: "42", tool_name: "f", tool_call_id: "call_1" },
      want: { role: "tool", content: "42", tool_name: "f", tool_call_id: "call_1" },
    },
    {
      name: "tool result with OpenAI's name",
      message: { role: "tool", content: "42", name: "f" },
      want: { role: "tool", content: "42", tool_name: "f" },
    },
    {
      name: "thinking and images kept",
      message: { role: "assistant", content: "a", thinking: "hmm", images: [PNG] },
      want: { role: "assistant", content: "a", thinking: "hmm", images: [PNG] },
    },
    {
      name: "empty images dropped",
      message: { role: "user", content: "a", images: [] },
      want: { role: "user", content: "a" },
    },
    {
      name: "a data URL image is tolerated",
      message: { role: "user", content: "a", images: [`data:image/png;base64,${PNG}`] },
      want: { role: "user", content: "a", images: [`data:image/png;base64,${PNG}`] },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      assert.deepEqual(parseChatRequest({ model: "m", messages: [c.message] }).messages, [c.want]);
    });
  }
});

Deno.test("tools: an empty array means no tools", () => {
  assert.equal("tools" in chat({ tools: [] }), false);
  assert.equal("tools" in chat({ tools: null }), false);
  const tool = { type: "function", function: { name: "f", parameters: {} } };
  assert.deepEqual(chat({ tools: [tool] }).tools, [tool]);
});

Deno.test("keep_alive: numbers and Go durations", async (t) => {
  const cases: [unknown, number | undefined][] = [
    [undefined, undefined],
    [null, undefined],
    [42, 42],
    [42.5, 42.5],
    [0, 0],
    [-1, -1],
    [-3.14, -3.14],
    ["0", 0],
    ["-0", 0],
    ["+0", 0],
    ["0s", 0],
    ["5m", 300],
    ["42m", 2520],
    ["1h30m", 5400],
    ["1.5h", 5400],
    ["-1m", -60],
    ["+10s", 10],
    ["500ms", 0.5],
    ["2h45m30s", 9930],
  ];
  for (const [value, want] of cases) {
    await t.step(JSON.stringify(value) ?? "undefined", () => {
      assert.equal(parseKeepAlive(value), want);
      const req = chat(value === undefined ? {} : { keep_alive: value });
      assert.equal(req.keep_alive, want);
    });
  }
});

Deno.test("keep_alive: invalid values are a 400", async (t) => {
  const cases: [unknown, string][] = [
    ["300", 'time: invalid duration "300"'],
    ["5 m", 'invalid duration "5 m"'],
    ["5x", 'invalid duration "5x"'],
    ["m", 'invalid duration "m"'],
    ["", 'invalid duration ""'],
    ["-", 'invalid duration "-"'],
    ["+", 'invalid duration "+"'],
    [true, '"keep_alive"'],
    [[5], '"keep_alive"'],
  ];
  for (const [value, fragment] of cases) {
    await t.step(JSON.stringify(value), () => {
      throws400(() => chat({ keep_alive: value }), fragment);
    });
  }
});

Deno.test("think values", async (t) => {
  for (const value of [true, false, "low", "medium", "high", "max"]) {
    await t.step(JSON.stringify(value), () => assert.equal(chat({ think: value }).think, value));
  }
  await t.step("null is absent", () => assert.equal("think" in chat({ think: null }), false));
  const message = '(must be "high", "medium", "low", "max", true, or false)';
  for (const value of ["invalid", "HIGH", "", 1]) {
    await t.step(`${JSON.stringify(value)} → 400`, () => {
      throws400(() => chat({ think: value }), `invalid think value: ${JSON.stringify(value)}`);
      throws400(() => chat({ think: value }), message);
    });
  }
});

Deno.test("format values", async (t) => {
  const schema = { type: "object", properties: { a: { type: "string" } } };
  const cases: [unknown, unknown][] = [
    ["json", "json"],
    [schema, schema],
    ["", undefined],
    [null, undefined],
  ];
  for (const [value, want] of cases) {
    await t.step(
      JSON.stringify(value),
      () => assert.deepEqual(chat({ format: value }).format, want),
    );
  }
  for (const value of ["xml", "JSON", [], 5, true]) {
    await t.step(`${JSON.stringify(value)} → 400`, () => {
      throws400(
        () => chat({ format: value }),
        `invalid format: ${JSON.stringify(value)}; expected "json" or a valid JSON Schema object`,
      );
    });
  }
});

Deno.test("logprobs and top_logprobs", async (t) => {
  await t.step("in range", () => {
    for (const n of [0, 5, 20]) {
      const req = chat({ logprobs: true, top_logprobs: n });
      assert.equal(req.logprobs, true);
      assert.equal(req.top_logprobs, n);
    }
  });
  for (const value of [-1, 21, 100, "5"]) {
    await t.step(`${JSON.stringify(value)} → 400`, () => {
      throws400(() => chat({ top_logprobs: value }), "top_logprobs must be between 0 and 20");
      throws400(
        () => parseGenerateRequest({ model: "m", top_logprobs: value }),
        "top_logprobs must be between 0 and 20",
      );
    });
  }
  await t.step(
    "logprobs not a boolean",
    () => throws400(() => chat({ logprobs: "yes" }), "logprobs"),
  );
});

Deno.test("generate requests", async (t) => {
  await t.step("prompt, system, suffix, template, images, context", () => {
    assert.deepEqual(
      parseGenerateRequest({
        model: "m",
        prompt: "hi",
        system: "S",
        suffix: "end",
        template: "{{ .Prompt }}",
        images: [PNG],
        context: [1, 2, 3],
        stream: false,
      }),
      {
        model: "m",
        stream: false,
        prompt: "hi",
        raw: false,
        system: "S",
        suffix: "end",
        template: "{{ .Prompt }}",
        images: [PNG],
        context: [1, 2, 3],
      },
    );
  });
  await t.step("prompt absent, empty context and images dropped", () => {
    assert.deepEqual(parseGenerateRequest({ model: "m", context: [], images: [] }), {
      model: "m",
      stream: true,
      prompt: "",
      raw: false,
    });
  });
  await t.step("raw alone is fine", () => {
    assert.equal(parseGenerateRequest({ model: "m", prompt: "<s>", raw: true }).raw, true);
  });
  for (const extra of [{ system: "S" }, { template: "T" }, { context: [1] }]) {
    await t.step(`raw with ${Object.keys(extra)[0]} → 400`, () => {
      throws400(
        () => parseGenerateRequest({ model: "m", prompt: "p", raw: true, ...extra }),
        "raw mode does not support template, system, or context",
      );
    });
  }
});

Deno.test("request bodies that are not JSON objects", async (t) => {
  const cases: [string, string][] = [
    ["", "missing request body"],
    ["  \n", "missing request body"],
    ["{bad", "invalid JSON in request body"],
    ['{"model": "m",}', "invalid JSON in request body"],
    ["[]", "request body must be a JSON object, got array"],
    ["42", "request body must be a JSON object, got number"],
    ['"hi"', "request body must be a JSON object, got string"],
    ["true", "request body must be a JSON object, got boolean"],
  ];
  for (const [text, fragment] of cases) {
    await t.step(JSON.stringify(text), () => {
      throws400(() => parseJsonObject(text), fragment);
      if (fragment === "missing request body") {
        assert.throws(() => parseJsonObject(text), { message: "missing request body" });
      }
    });
  }
  assert.deepEqual(parseJsonObject('{"model":"m"}'), { model: "m" });
  // Go decodes a JSON null like {}, so Ollama answers the route's own "model" error for it.
  assert.deepEqual(parseJsonObject("null"), {});
});

Deno.test("wrong field types are a 400 naming the field path", async (t) => {
  const ok = { role: "user", content: "hi" };
  const cases: [string, Record<string, unknown>, string][] = [
    ["model", { model: 5 }, '"model"'],
    ["stream", { stream: "yes" }, '"stream"'],
    ["options", { options: [1] }, '"options"'],
    ["options string", { options: "x" }, '"options"'],
    ["messages", { messages: "hi" }, '"messages"'],
    ["messages[0]", { messages: [null] }, '"messages[0]"'],
    ["messages[1]", { messages: [ok, "hi"] }, '"messages[1]"'],
    [
      "messages[1].content",
      { messages: [ok, { role: "user", content: 5 }] },
      '"messages[1].content"',
    ],
    [
      "content object",
      { messages: [{ role: "user", content: { a: 1 } }] },
      '"messages[0].content"',
    ],
    ["role missing", { messages: [{ content: "x" }] }, '"messages[0].role"'],
    ["role not a string", { messages: [{ role: 1, content: "x" }] }, '"messages[0].role"'],
    ["thinking", { messages: [{ role: "assistant", thinking: 1 }] }, '"messages[0].thinking"'],
    ["images", { messages: [{ role: "user", images: PNG }] }, '"messages[0].images"'],
    ["images[1]", { messages: [{ role: "user", images: [PNG, 7] }] }, '"messages[0].images[1]"'],
    [
      "tool_calls",
      { messages: [{ role: "assistant", tool_calls: {} }] },
      '"messages[0].tool_calls"',
    ],
    [
      "tool_calls[0]",
      { messages: [{ role: "assistant", tool_calls: ["f"] }] },
      '"messages[0].tool_calls[0]"',
    ],
    [
      "tool_calls[0].function",
      { messages: [{ role: "assistant", tool_calls: [{ name: "f" }] }] },
      '"messages[0].tool_calls[0].function"',
    ],
    [
      "tool_calls[0].function.name",
      { messages: [{ role: "assistant", tool_calls: [{ function: { name: "" } }] }] },
      '"messages[0].tool_calls[0].function.name"',
    ],
    [
      "tool_calls[0].function.arguments",
      {
        messages: [{
          role: "assistant",
          tool_calls: [{ function: { name: "f", arguments: [1] } }],
        }],
      },
      '"messages[0].tool_calls[0].function.arguments"',
    ],
    [
      "tool_calls[0].id",
      { messages: [{ role: "assistant", tool_calls: [{ id: 3, function: { name: "f" } }] }] },
      '"messages[0].tool_calls[0].id"',
    ],
    ["tool_name", { messages: [{ role: "tool", tool_name: 1 }] }, '"messages[0].tool_name"'],
    [
      "tool_call_id",
      { messages: [{ role: "tool", tool_call_id: 1 }] },
      '"messages[0].tool_call_id"',
    ],
    ["tools", { tools: { type: "function" } }, '"tools"'],
    ["tools[1]", { tools: [{}, "f"] }, '"tools[1]"'],
  ];
  for (const [name, body, fragment] of cases) {
    await t.step(name, () => throws400(() => parseChatRequest({ model: "m", ...body }), fragment));
  }
  const generateCases: [string, Record<string, unknown>, string][] = [
    ["prompt", { prompt: 5 }, '"prompt"'],
    ["system", { system: [] }, '"system"'],
    ["suffix", { suffix: 1 }, '"suffix"'],
    ["template", { template: {} }, '"template"'],
    ["raw", { raw: "true" }, '"raw"'],
    ["context", { context: ["a"] }, '"context"'],
    ["context not an array", { context: 1 }, '"context"'],
    ["images", { images: "abc" }, '"images"'],
    ["images[0]", { images: [5] }, '"images[0]"'],
  ];
  for (const [name, body, fragment] of generateCases) {
    await t.step(`generate ${name}`, () => {
      throws400(() => parseGenerateRequest({ model: "m", ...body }), fragment);
    });
  }
});

Deno.test("invalid base64 image data is a 400", async (t) => {
  for (const bad of ["not base64!", "abc=def", "%%%", "data:image/png;base64,@@@"]) {
    await t.step(bad, () => {
      throws400(
        () => parseGenerateRequest({ model: "m", images: [bad] }),
        'invalid "images[0]": not valid base64 image data',
      );
      throws400(
        () => chat({ messages: [{ role: "user", content: "x", images: [PNG, bad] }] }),
        'invalid "messages[0].images[1]": not valid base64 image data',
      );
    });
  }
  assert.deepEqual(parseGenerateRequest({ model: "m", images: [`${PNG}\n`] }).images, [`${PNG}\n`]);
});
