/**
 * The Responses door driven by the real `openai` client (npm:openai): `responses.create` without
 * streaming and with it, and `responses.stream`, whose accumulator rebuilds the response from the
 * events and fails on any event that does not fit (wrong index, missing item, deltas for an
 * unknown part) — with a function tool round trip: the call, then its output sent back.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { chunk, sse, textStream, usage } from "../../_fake_upstream.ts";
import { startProxy } from "../../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";

const WEATHER: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "Weather for a city.",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused-by-proxy", maxRetries: 0 });
}

function weatherCall(): string[] {
  return sse([
    chunk({ role: "assistant", content: "Checking." }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "call_w",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":' },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({}, "tool_calls"),
    usage(12, 6),
  ]);
}

Deno.test("openai sdk: responses.create (no stream) with a function tool round trip", async () => {
  await using p = startProxy();
  const openai = client(p.url);
  p.upstream.enqueue(CHAT, { pieces: weatherCall() });
  const first = await openai.responses.create({
    model: QWEN,
    input: "Weather in Paris?",
    tools: [WEATHER],
  });
  assert.equal(first.status, "completed");
  assert.equal(first.output_text, "Checking.");
  const call = first.output.find((o) => o.type === "function_call");
  assert.ok(call && call.type === "function_call");
  assert.equal(call.name, "get_weather");
  assert.equal(call.call_id, "call_w");
  assert.deepEqual(JSON.parse(call.arguments), { city: "Paris" });
  assert.equal(first.usage?.total_tokens, 18);
  p.upstream.enqueue(CHAT, { pieces: textStream(["Sunny in Paris."]) });
  const second = await openai.responses.create({
    model: QWEN,
    tools: [WEATHER],
    input: [
      { role: "user", content: "Weather in Paris?" },
      ...first.output as OpenAI.Responses.ResponseInputItem[],
      { type: "function_call_output", call_id: call.call_id, output: "sunny, 24C" },
    ],
  });
  assert.equal(second.output_text, "Sunny in Paris.");
  assert.deepEqual((p.upstream.calls(CHAT)[1]!.body!.messages as unknown[]).slice(1), [
    {
      role: "assistant",
      content: "Checking.",
      tool_calls: [{
        id: "call_w",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: "call_w", content: "sunny, 24C" },
  ]);
});

Deno.test("openai sdk: responses.create (stream) and responses.stream rebuild the same answer", async () => {
  await using p = startProxy();
  const openai = client(p.url);
  p.upstream.enqueue(CHAT, { pieces: weatherCall() });
  const stream = await openai.responses.create({
    model: QWEN,
    input: "Weather in Paris?",
    tools: [WEATHER],
    stream: true,
  });
  const seen: string[] = [];
  let completed: OpenAI.Responses.Response | undefined;
  for await (const event of stream) {
    seen.push(event.type);
    if (event.type === "response.completed") completed = event.response;
  }
  assert.equal(seen[0], "response.created");
  assert.equal(seen.at(-1), "response.completed");
  assert.deepEqual(completed?.output.map((o) => o.type), ["message", "function_call"]);
  p.upstream.enqueue(CHAT, { pieces: weatherCall() });
  const helper = openai.responses.stream({
    model: QWEN,
    input: "Weather in Paris?",
    tools: [WEATHER],
  });
  let text = "";
  helper.on("response.output_text.delta", (e) => text += e.delta);
  const final = await helper.finalResponse();
  assert.equal(text, "Checking.");
  assert.equal(final.output_text, "Checking.");
  const call = final.output[1];
  assert.ok(call?.type === "function_call");
  assert.equal(call.arguments, '{"city":"Paris"}');
  assert.equal(call.status, "completed");
  p.upstream.enqueue(CHAT, { pieces: textStream(["Sunny."]) });
  const answer = await openai.responses.stream({
    model: QWEN,
    tools: [WEATHER],
    input: [
      { role: "user", content: "Weather in Paris?" },
      ...final.output as OpenAI.Responses.ResponseInputItem[],
      { type: "function_call_output", call_id: call.call_id, output: "sunny" },
    ],
  }).finalResponse();
  assert.equal(answer.output_text, "Sunny.");
  assert.equal(
    (p.upstream.calls(CHAT)[2]!.body!.messages as { role: string }[]).at(-1)!.role,
    "tool",
  );
});
