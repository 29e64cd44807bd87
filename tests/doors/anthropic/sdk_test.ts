/**
 * The Anthropic door driven by the real `@anthropic-ai/sdk` (test-only): `messages.create`,
 * `messages.stream` with its accumulated final message, a tool round trip whose second upstream
 * body is asserted exactly, `countTokens`, and errors as the SDK's typed exceptions — so the
 * frames are not only well-formed to our eyes but to the SDK's accumulator.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { chunk, sse, textStream, usage } from "../../_fake_upstream.ts";
import { startProxy } from "../../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const STREAMED = { include_usage: true };

function client(url: string, apiKey = "unused-by-proxy"): Anthropic {
  return new Anthropic({ baseURL: url, apiKey, maxRetries: 0 });
}

const WEATHER: Anthropic.Tool = {
  name: "get_weather",
  description: "Weather by city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

/** The upstream's answer: some reasoning, then a call of get_weather for Paris. */
const TOOL_ANSWER = sse([
  chunk({ role: "assistant", content: "" }),
  chunk({ reasoning_content: "Need the weather." }),
  chunk({
    tool_calls: [{
      index: 0,
      id: "call_w1",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":' },
    }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({}, "tool_calls"),
  usage(50, 9),
]);

Deno.test("sdk: messages.create gets the message object", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["Hello", "!"]) });
  const msg = await client(p.url).messages.create({
    model: QWEN,
    max_tokens: 256,
    system: "Be brief.",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(msg.type, "message");
  assert.equal(msg.model, QWEN);
  assert.deepEqual(msg.content, [{ type: "text", text: "Hello!" }]);
  assert.equal(msg.stop_reason, "end_turn");
  assert.equal(msg.stop_sequence, null);
  assert.deepEqual(msg.usage, { input_tokens: 10, output_tokens: 2 });
});

Deno.test("sdk: messages.stream accumulates thinking and a tool call into the final message", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: TOOL_ANSWER });
  const stream = client(p.url).messages.stream({
    model: QWEN,
    max_tokens: 256,
    thinking: { type: "enabled", budget_tokens: 1024 },
    tools: [WEATHER],
    messages: [{ role: "user", content: "Weather in Paris?" }],
  });
  const thinking: string[] = [];
  const json: string[] = [];
  stream.on("thinking", (delta) => thinking.push(delta));
  stream.on("inputJson", (partial) => json.push(partial));
  const msg = await stream.finalMessage();
  assert.deepEqual(thinking, ["Need the weather."]);
  assert.deepEqual(json, ['{"city":', '"Paris"}']);
  assert.deepEqual(msg.content, [
    { type: "thinking", thinking: "Need the weather.", signature: "ollama-chutes-proxy" },
    { type: "tool_use", id: "call_w1", name: "get_weather", input: { city: "Paris" } },
  ]);
  assert.equal(msg.stop_reason, "tool_use");
  assert.equal(msg.usage.input_tokens, 50);
  assert.equal(msg.usage.output_tokens, 9);
});

Deno.test("sdk: a tool round trip — the result goes upstream as a tool message, reasoning kept", async () => {
  await using p = startProxy();
  const anthropic = client(p.url);
  p.upstream.enqueue(CHAT, { pieces: TOOL_ANSWER });
  const question: Anthropic.MessageParam = { role: "user", content: "Weather in Paris?" };
  const first = await anthropic.messages.create({
    model: QWEN,
    max_tokens: 256,
    tools: [WEATHER],
    messages: [question],
  });
  const call = first.content.find((b) => b.type === "tool_use")!;
  p.upstream.enqueue(CHAT, { pieces: textStream(["Sunny, 21°C."]) });
  const second = await anthropic.messages.create({
    model: QWEN,
    max_tokens: 256,
    tools: [WEATHER],
    messages: [
      question,
      { role: "assistant", content: first.content },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: call.id, content: "sunny, 21 C" }],
      },
    ],
  });
  assert.deepEqual(second.content, [{ type: "text", text: "Sunny, 21°C." }]);
  assert.deepEqual(p.upstream.calls(CHAT)[1]!.body, {
    model: QWEN,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [{
          id: "call_w1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        }],
        reasoning_content: "Need the weather.",
      },
      { role: "tool", tool_call_id: "call_w1", content: "sunny, 21 C" },
    ],
    max_tokens: 256,
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather by city",
        parameters: WEATHER.input_schema,
      },
    }],
    stream: true,
    stream_options: STREAMED,
  });
});

Deno.test("sdk: countTokens is answered without an upstream call", async () => {
  await using p = startProxy();
  const counted = await client(p.url).messages.countTokens({
    model: QWEN,
    system: "Be brief.",
    tools: [WEATHER],
    messages: [{ role: "user", content: "Weather in Paris?" }],
  });
  assert.ok(counted.input_tokens > 10 && counted.input_tokens < 200, `${counted.input_tokens}`);
  assert.equal(p.upstream.requests.length, 0);
});

Deno.test("sdk: errors arrive as the SDK's typed errors, before and after the first byte", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  const anthropic = client(p.url);
  await assert.rejects(
    anthropic.messages.create({
      model: "nope/none",
      max_tokens: 16,
      messages: [{ role: "user", content: "x" }],
    }),
    (err: unknown) =>
      err instanceof Anthropic.NotFoundError &&
      (err.error as { error: { type: string } }).error.type === "not_found_error",
  );
  p.upstream.enqueue(CHAT, { status: 503, json: { detail: "No instances available" } });
  await assert.rejects(
    anthropic.messages.create({
      model: QWEN,
      max_tokens: 16,
      messages: [{ role: "user", content: "x" }],
    }),
    (err: unknown) =>
      err instanceof Anthropic.InternalServerError && err.status === 503 &&
      (err.error as { error: { type: string } }).error.type === "overloaded_error",
  );
  p.upstream.enqueue(CHAT, { pieces: sse([chunk({ content: "par" })], { done: false }) });
  const stream = anthropic.messages.stream({
    model: QWEN,
    max_tokens: 16,
    messages: [{ role: "user", content: "x" }],
  });
  await assert.rejects(
    stream.finalMessage(),
    (err: unknown) =>
      err instanceof Anthropic.APIError &&
      /upstream stream ended before the response was complete/.test(err.message),
  );
});
