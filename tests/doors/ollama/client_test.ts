/**
 * The proxy driven by the official `ollama` JS client (npm:ollama) over real HTTP: list, show,
 * ps, version, chat and generate streaming and not, tools, thinking, images, format, and the
 * errors the client raises (before the first byte with a status, after it from the error line).
 */
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { chunk, sse, textStream, usage } from "../../_fake_upstream.ts";
import { startProxy } from "../../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const PNG_1PX =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

Deno.test("ollama client: version, list, show, ps", async () => {
  await using p = startProxy();
  const client = new Ollama({ host: p.url });
  assert.equal((await client.version()).version, "0.32.6");
  const { models } = await client.list();
  assert.ok(models.some((m) => m.model === `${QWEN}:latest` && m.name === `${QWEN}:latest`));
  const shown = await client.show({ model: `${QWEN}:latest` });
  assert.deepEqual(shown.capabilities, ["completion", "tools", "thinking"]);
  assert.equal(
    (shown.model_info as unknown as Record<string, unknown>)["qwen3.context_length"],
    40960,
  );
  assert.equal(shown.details.family, "qwen3");
  await client.chat({ model: QWEN, messages: [] });
  const ps = await client.ps();
  assert.equal(ps.models[0]?.model, `${QWEN}:latest`);
});

Deno.test("ollama client: streaming chat ends with done and counters", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["The ", "answer ", "is 42."]) });
  const client = new Ollama({ host: p.url });
  const parts: string[] = [];
  let final;
  for await (
    const part of await client.chat({
      model: QWEN,
      messages: [{ role: "user", content: "?" }],
      stream: true,
    })
  ) {
    parts.push(part.message.content);
    if (part.done) final = part;
  }
  assert.equal(parts.join(""), "The answer is 42.");
  assert.equal(final?.done_reason, "stop");
  assert.equal(final?.eval_count, 3);
  assert.equal(final?.prompt_eval_count, 10);
});

Deno.test("ollama client: non-streaming chat with tools returns object arguments", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([
      chunk({
        role: "assistant",
        content: null,
        tool_calls: [{
          index: 0,
          id: "call_1",
          type: "function",
          function: { name: "add", arguments: "" },
        }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a": 1, ' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"b": 2}' } }] }),
      chunk({}, "tool_calls"),
      usage(50, 9),
    ]),
  }); // deno-fmt-ignore
  const client = new Ollama({ host: p.url });
  const tools = [{
    type: "function",
    function: {
      name: "add",
      description: "Adds",
      parameters: {
        type: "object",
        required: ["a", "b"],
        properties: { a: { type: "number" }, b: { type: "number" } },
      },
    },
  }];
  const res = await client.chat({
    model: QWEN,
    stream: false,
    tools,
    messages: [
      { role: "user", content: "1+2" },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ function: { name: "add", arguments: { a: 0, b: 0 } } }],
      },
      { role: "tool", content: "0", tool_name: "add" },
      { role: "user", content: "again" },
    ],
  });
  assert.deepEqual(res.message.tool_calls, [{
    id: "call_1",
    function: { index: 0, name: "add", arguments: { a: 1, b: 2 } },
  }]);
  const sent = p.upstream.calls(CHAT)[0]!.body!;
  assert.deepEqual(sent.messages, [
    { role: "user", content: "1+2" },
    {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "call_1_0",
        type: "function",
        function: { name: "add", arguments: '{"a":0,"b":0}' },
      }],
    },
    { role: "tool", content: "0", tool_call_id: "call_1_0", name: "add" },
    { role: "user", content: "again" },
  ]); // deno-fmt-ignore
  assert.deepEqual(sent.tools, tools);
});

Deno.test("ollama client: thinking streams into message.thinking; think level maps to reasoning_effort", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([
      chunk({ role: "assistant", reasoning_content: "hmm" }),
      chunk({ content: "yes" }),
      chunk({}, "stop"),
      usage(5, 2),
    ]),
  });
  const client = new Ollama({ host: p.url });
  let thinking = "";
  let content = "";
  const stream = await client.chat({
    model: QWEN,
    messages: [{ role: "user", content: "?" }],
    stream: true,
    think: "high",
  });
  for await (const part of stream) {
    thinking += part.message.thinking ?? "";
    content += part.message.content;
  }
  assert.equal(thinking, "hmm");
  assert.equal(content, "yes");
  const sent = p.upstream.calls(CHAT)[0]!.body!;
  assert.equal(sent.reasoning_effort, "high");
  assert.deepEqual(sent.chat_template_kwargs, { thinking: true, enable_thinking: true });
});

Deno.test("ollama client: images become data-URL parts; format schema becomes json_schema", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(['{"color":"red"}']) });
  const client = new Ollama({ host: p.url });
  const schema = { type: "object", properties: { color: { type: "string" } }, required: ["color"] };
  const res = await client.chat({
    model: "Qwen/Qwen2.5-VL-72B-Instruct",
    stream: false,
    format: schema,
    messages: [{ role: "user", content: "Which colour?", images: [PNG_1PX] }],
  });
  assert.equal(res.message.content, '{"color":"red"}');
  const sent = p.upstream.calls(CHAT)[0]!.body!;
  assert.deepEqual(sent.messages, [{
    role: "user",
    content: [
      { type: "text", text: "Which colour?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
    ],
  }]);
  assert.deepEqual(sent.response_format, {
    type: "json_schema",
    json_schema: { name: "schema", schema },
  });
});

Deno.test("ollama client: generate streaming and not, with format json", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["Hi", "!"]) });
  p.upstream.enqueue(CHAT, { pieces: textStream(["{}"]) });
  const client = new Ollama({ host: p.url });
  let text = "";
  for await (const part of await client.generate({ model: QWEN, prompt: "hello", stream: true })) {
    text += part.response;
  }
  assert.equal(text, "Hi!");
  const whole = await client.generate({
    model: QWEN,
    prompt: "json please",
    format: "json",
    stream: false,
  });
  assert.equal(whole.response, "{}");
  assert.equal(whole.done, true);
  assert.deepEqual(p.upstream.calls(CHAT)[1]!.body!.response_format, { type: "json_object" });
});

Deno.test("ollama client: errors carry the status before the first byte and the message after it", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  const client = new Ollama({ host: p.url });
  await assert.rejects(
    client.chat({ model: "nope/none", messages: [{ role: "user", content: "x" }] }),
    (err: Error & { status_code?: number }) =>
      err.status_code === 404 && err.message === "model 'nope/none' not found",
  );
  p.upstream.enqueue(CHAT, {
    status: 429,
    json: { detail: "Infrastructure is at maximum capacity, try again later" },
  });
  await assert.rejects(
    client.chat({ model: QWEN, messages: [{ role: "user", content: "x" }], stream: true }),
    (err: Error & { status_code?: number }) =>
      err.status_code === 429 && /maximum capacity/.test(err.message),
  );
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ content: "par" })], { done: false }),
      '{"error": "Unhandled exception during response stream"}\n',
    ],
  });
  const stream = await client.chat({
    model: QWEN,
    messages: [{ role: "user", content: "x" }],
    stream: true,
  });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const part of stream) seen.push(part.message.content);
  }, /Unhandled exception during response stream/);
  assert.deepEqual(seen, ["par"]);
});
